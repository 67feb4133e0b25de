/**
 * The EventStore contract: every feature suite, run against one factory. A runner per engine calls
 * it with that engine's factory (test/embedded-memory.test.ts, test/embedded-disk.test.ts); a suite
 * for a capability the engine lacks shows as skipped, with the capability in its title.
 */
import { describe } from 'vitest';
import { analyticsSuite } from './analytics.contract.js';
import { appendToStreamSuite } from './append-to-stream.contract.js';
import { appendSuite } from './append.contract.js';
import { archiveSuite } from './archive.contract.js';
import { durabilitySuite } from './durability.contract.js';
import { erasureSuite } from './erasure.contract.js';
import { eventIdsSuite } from './event-ids.contract.js';
import type { StoreFactory } from './factory.js';
import { hooksSuite } from './hooks.contract.js';
import { commitHooksSuite } from './commit-hooks.contract.js';
import { indexesSuite } from './indexes.contract.js';
import { lifecycleSuite } from './lifecycle.contract.js';
import { querySuite } from './query.contract.js';
import { readSuite } from './read.contract.js';
import { retentionSuite } from './retention.contract.js';
import { statsSuite } from './stats.contract.js';
import { validationSuite } from './validation.contract.js';

export function eventStoreContract(factory: StoreFactory): void {
  describe(`EventStore contract: ${factory.name}`, () => {
    appendSuite(factory);
    eventIdsSuite(factory);
    appendToStreamSuite(factory);
    readSuite(factory);
    querySuite(factory);
    analyticsSuite(factory);
    erasureSuite(factory);
    statsSuite(factory);
    indexesSuite(factory);
    retentionSuite(factory);
    archiveSuite(factory);
    hooksSuite(factory);
    commitHooksSuite(factory);
    validationSuite(factory);
    lifecycleSuite(factory);
    durabilitySuite(factory);
  });
}

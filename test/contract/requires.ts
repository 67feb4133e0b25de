import { describe, test, type TestFunction } from 'vitest';
import type { StorageCapabilities } from '../../src/storage/storage-engine.js';
import type { StoreFactory } from './factory.js';

type Capability = keyof StorageCapabilities;

/**
 * `describe` and `test` for what needs a capability: when the factory's engine lacks it, the suite
 * or test is registered skipped (vitest reports it) and its title says why, rather than passing
 * without having run.
 */
export function requires(factory: StoreFactory, capability: Capability) {
  const present = factory.capabilities[capability];
  const title = (name: string) => (present ? name : `${name} (skipped: engine lacks ${capability})`);
  return {
    describe(name: string, body: () => void): void {
      (present ? describe : describe.skip)(title(name), body);
    },
    test(name: string, fn: TestFunction): void {
      (present ? test : test.skip)(title(name), fn);
    },
  };
}

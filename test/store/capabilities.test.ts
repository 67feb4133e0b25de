/**
 * The capabilities a contract factory declares are the ones its store reports: the suites skip by
 * the factory's word, so it must be the engine's.
 */
import { describe, expect, test } from 'vitest';
import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';

describe('store.capabilities', () => {
  for (const factory of [embeddedInMemory, embeddedOnDisk]) {
    test(`${factory.name}: the store reports what its factory declares`, async () => {
      const context = await factory.open();
      try {
        expect(context.store.capabilities).toEqual(factory.capabilities);
      } finally {
        await context.cleanup();
      }
    });
  }
});

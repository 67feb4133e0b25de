/**
 * What only the embedded engine promises, checked against each of its factories by its runners
 * (test/embedded-memory.test.ts, test/embedded-disk.test.ts) beside the contract: another engine
 * keeps its data elsewhere (a database server's memory), so the contract cannot ask it of them.
 */
import { describe, expect, test } from 'vitest';
import { appendSample } from '../support/contract-sample.js';
import type { StoreFactory } from './factory.js';

export function embeddedSpecifics(factory: StoreFactory): void {
  describe(`embedded engine: ${factory.name}`, () => {
    test('stats().memory counts the bytes the event columns and the indexes take', async () => {
      const ctx = await factory.open();
      try {
        await appendSample(ctx.store);
        const memory = ctx.store.stats().memory;
        expect(memory.columns).toBeGreaterThan(0);
        expect(memory.indexes).toBeGreaterThan(0);
      } finally {
        await ctx.cleanup();
      }
    });
  });
}

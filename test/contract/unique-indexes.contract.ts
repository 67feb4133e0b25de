/**
 * Unique user indexes: an append (or appendToStream) that repeats a key the index holds, or repeats
 * one within its batch, is refused with UNIQUE_VIOLATION and writes nothing; keys are typed; events
 * without a key or outside a partial index never conflict; a build over duplicates leaves no index.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { f, TammaError, UniqueViolationError, type IndexDefinition, type NewEvent } from '../../src/index.js';
import { expectError, observe, rejection } from '../support/helpers.js';
import { considered } from '../support/index-sample.js';
import type { StoreFactory } from './factory.js';
import { openIndexContext, type IndexContext } from './index-context.js';
import { requires } from './requires.js';

export function uniqueIndexesSuite(factory: StoreFactory): void {
  describe('unique indexes', () => {
    let ctx: IndexContext;
    beforeEach(async () => {
      ctx = await openIndexContext(factory);
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    const EMAIL: IndexDefinition = { name: 'by_email', fields: ['payload.email'], unique: true };
    const user = (email: string | undefined, type = 'UserRegistered'): NewEvent => ({
      aggregateId: `user-${email ?? 'none'}`,
      type,
      ...(email === undefined ? {} : { payload: { email } }),
    });

    test('an append whose key the index holds is rejected and writes nothing', async () => {
      await ctx.store.append([user('a@x'), user('b@x')]);
      await ctx.store.indexes.createIndex(EMAIL);
      const before = await observe(ctx.store);

      const error = await rejection(() => ctx.store.append([user('c@x'), user('a@x')]));
      expectError(
        error,
        UniqueViolationError,
        'UNIQUE_VIOLATION',
        'by_email',
        'payload.email = "a@x"',
        'events[1]',
      );
      expect((error as UniqueViolationError).eventIndex).toBe(1);
      expect((error as UniqueViolationError).key).toEqual(['a@x']);
      expect(await observe(ctx.store)).toEqual(before);
      // c@x was not written, so it is still free.
      await ctx.store.append(user('c@x'));
      expect(ctx.store.stats().events).toBe(3);
    });

    test('two events of one batch with the same key are rejected and write nothing', async () => {
      await ctx.store.indexes.createIndex(EMAIL);
      await ctx.store.append(user('a@x'));
      const before = await observe(ctx.store);
      const error = await rejection(() => ctx.store.append([user('b@x'), user('c@x'), user('b@x')]));
      expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', 'events[2]', 'events[0]', '"b@x"');
      expect(await observe(ctx.store)).toEqual(before);
    });

    test('appendToStream is checked the same way, against stored events and within the batch', async () => {
      await ctx.store.indexes.createIndex(EMAIL);
      await ctx.store.appendToStream('u', [{ type: 'UserRegistered', payload: { email: 'a@x' } }]);
      const before = await observe(ctx.store);
      const stored = await rejection(() =>
        ctx.store.appendToStream('u', [{ type: 'UserRenamed', payload: { email: 'a@x' } }], {
          expectedVersion: 1,
        }),
      );
      expectError(stored, UniqueViolationError, 'UNIQUE_VIOLATION', '"a@x"');
      const batch = await rejection(() =>
        ctx.store.appendToStream('v', [
          { type: 'UserRegistered', payload: { email: 'z@x' } },
          { type: 'UserRegistered', payload: { email: 'z@x' } },
        ]),
      );
      expectError(batch, UniqueViolationError, 'UNIQUE_VIOLATION', '"z@x"');
      expect(await observe(ctx.store)).toEqual(before);
      // The stream's version did not move: the next expected version still fits.
      await ctx.store.appendToStream('u', [{ type: 'UserRenamed', payload: { email: 'b@x' } }], {
        expectedVersion: 1,
      });
    });

    test('events without a key (missing field) or outside a partial index never conflict', async () => {
      await ctx.store.indexes.createIndex({
        name: 'registered_email',
        fields: ['payload.email'],
        unique: true,
        where: f.eq('type', 'UserRegistered'),
      });
      await ctx.store.append([user(undefined), user(undefined), user('a@x'), user('a@x', 'UserInvited')]);
      await ctx.store.append(user('a@x', 'UserInvited'));
      const error = await rejection(() => ctx.store.append(user('a@x')));
      expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', 'registered_email');
      expect(ctx.store.stats().events).toBe(5);
    });

    test('keys of different types do not collide: "1", 1 and true are three keys', async () => {
      await ctx.store.indexes.createIndex({ name: 'by_code', fields: ['tags.code'], unique: true });
      await ctx.store.append([
        { aggregateId: 'a', type: 'T', tags: { code: '1' } },
        { aggregateId: 'a', type: 'T', tags: { code: 1 } },
        { aggregateId: 'a', type: 'T', tags: { code: true } },
      ]);
      const error = await rejection(() =>
        ctx.store.append({ aggregateId: 'b', type: 'T', tags: { code: 1 } }),
      );
      expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', 'tags.code = 1');
    });

    test('building a unique index over duplicates fails and leaves no index', async () => {
      const [first, , third] = await ctx.store.append([user('a@x'), user('b@x'), user('a@x')]);
      const error = await rejection(() => ctx.store.indexes.createIndex(EMAIL));
      const holders = `sequences ${first!.sequence} and ${third!.sequence}`;
      expectError(error, TammaError, 'UNIQUE_VIOLATION', 'by_email', holders, '"a@x"');
      expect((await ctx.store.indexes.listIndexes()).map((index) => index.name)).not.toContain('by_email');
      // (That the embedded engine's indexes.json names no such index is in test/indexes/index-manager.test.ts.)
      expect(
        await considered(ctx.store, ctx.store.query().where('payload.email', 'eq', 'a@x')),
      ).not.toContain('by_email');
      // Appends are not checked against the failed index, and the name is free.
      await ctx.store.append(user('b@x'));
      await ctx.store.indexes.createIndex({ ...EMAIL, unique: false });
      if (ctx.reopen) {
        const store = await ctx.reopen();
        expect((await store.indexes.listIndexes()).find((i) => i.name === 'by_email')?.unique).toBe(false);
      }
    });

    requires(factory, 'durable').test(
      'after a rejected append and a reopen, the event is not there and the index still enforces',
      async () => {
        await ctx.store.append([user('a@x'), user('b@x')]);
        await ctx.store.indexes.createIndex(EMAIL);
        await expect(ctx.store.append([user('c@x'), user('b@x')])).rejects.toThrow(UniqueViolationError);
        const before = await observe(ctx.store);
        const store = await ctx.reopen!();
        expect(await observe(store)).toEqual(before);
        expect(
          (
            await store
              .query()
              .where('payload.email', 'eq', 'c@x')
              .hint({ forceIndex: ['scan'] })
              .execute()
          ).length,
        ).toBe(0);
        const error = await rejection(() => store.append(user('a@x')));
        expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', '"a@x"');
        expect(store.stats().events).toBe(2);
        await store.append(user('c@x'));
        expect(store.stats().events).toBe(3);
      },
    );
  });
}

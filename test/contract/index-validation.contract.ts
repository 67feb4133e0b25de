/**
 * store.indexes refuses bad arguments at the door, naming them, and changes nothing: definitions,
 * build options, names in use (INDEX_EXISTS), names that are not strings, and names no user index
 * has (INDEX_NOT_FOUND).
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  f,
  IndexNotFoundError,
  TammaError,
  ValidationError,
  type EventStore,
  type IndexDefinition,
} from '../../src/index.js';
import { expectError, rejection } from '../support/helpers.js';
import { orders } from '../support/index-sample.js';
import type { ContractContext, StoreFactory } from './factory.js';

export function indexValidationSuite(factory: StoreFactory): void {
  describe('store.indexes: validation', () => {
    let ctx: ContractContext;
    let store: EventStore;
    beforeEach(async () => {
      ctx = await factory.open();
      store = ctx.store;
      await store.append(orders(0, 3));
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    const valid = { name: 'ok', fields: ['payload.amount'] };
    const cases: [label: string, definition: unknown, code: string, fragments: string[]][] = [
      ['not an object', 'by_amount', 'INVALID_OPTION', ['definition', '"by_amount"']],
      ['null', null, 'INVALID_OPTION', ['definition', 'null']],
      ['an array', [valid], 'INVALID_OPTION', ['definition', '"ok"']],
      [
        'an unknown option',
        { ...valid, partial: true },
        'INVALID_OPTION',
        ['definition.partial', 'unknown option'],
      ],
      ['a misspelt option', { ...valid, uniq: true }, 'INVALID_OPTION', ['definition.uniq', 'unique']],
      ['missing name', { fields: ['type'] }, 'INVALID_OPTION', ['definition.name', 'undefined']],
      ['empty name', { ...valid, name: '' }, 'INVALID_OPTION', ['definition.name', '""']],
      [
        'name with a space',
        { ...valid, name: 'by amount' },
        'INVALID_OPTION',
        ['definition.name', '"by amount"'],
      ],
      ['name starting with a digit', { ...valid, name: '1st' }, 'INVALID_OPTION', ['"1st"']],
      ['name with a dot', { ...valid, name: 'tags.tenant' }, 'INVALID_OPTION', ['"tags.tenant"']],
      ['name of 65 characters', { ...valid, name: 'x'.repeat(65) }, 'INVALID_OPTION', ['x'.repeat(65)]],
      ['name that is a number', { ...valid, name: 42 }, 'INVALID_OPTION', ['definition.name', '42']],
      ['built-in name scan', { ...valid, name: 'scan' }, 'INVALID_OPTION', ['"scan"', 'built-in']],
      ['built-in name type', { ...valid, name: 'type' }, 'INVALID_OPTION', ['"type"', 'built-in']],
      [
        'built-in name timestamp',
        { ...valid, name: 'timestamp' },
        'INVALID_OPTION',
        ['"timestamp"', 'built-in'],
      ],
      [
        'built-in name sequence',
        { ...valid, name: 'sequence' },
        'INVALID_OPTION',
        ['"sequence"', 'built-in'],
      ],
      ['missing fields', { name: 'x' }, 'INVALID_OPTION', ['definition.fields', 'undefined']],
      ['empty fields', { ...valid, fields: [] }, 'INVALID_OPTION', ['definition.fields', '[]']],
      [
        'fields not an array',
        { ...valid, fields: 'type' },
        'INVALID_OPTION',
        ['definition.fields', '"type"'],
      ],
      [
        'nine fields',
        { ...valid, fields: Array.from({ length: 9 }, (_, i) => `payload.f${i}`) },
        'INVALID_OPTION',
        ['definition.fields', '1 to 8', 'payload.f0'],
      ],
      [
        'duplicate field',
        { ...valid, fields: ['type', 'payload.a', 'type'] },
        'INVALID_OPTION',
        ['twice', '"type"'],
      ],
      [
        'unknown field',
        { ...valid, fields: ['type', 'colour'] },
        'UNKNOWN_FIELD',
        ['definition.fields[1]', '"colour"'],
      ],
      [
        'empty payload path',
        { ...valid, fields: ['payload.'] },
        'UNKNOWN_FIELD',
        ['definition.fields[0]', '"payload."'],
      ],
      ['empty path segment', { ...valid, fields: ['payload.a..b'] }, 'UNKNOWN_FIELD', ['"payload.a..b"']],
      ['field not a string', { ...valid, fields: [7] }, 'UNKNOWN_FIELD', ['definition.fields[0]', '7']],
      ['bad type', { ...valid, type: 'gist' }, 'INVALID_OPTION', ['definition.type', '"gist"']],
      ['built-in type', { ...valid, type: 'postings' }, 'INVALID_OPTION', ['definition.type', '"postings"']],
      ['unique not a boolean', { ...valid, unique: 'yes' }, 'INVALID_OPTION', ['definition.unique', '"yes"']],
      ['unique as 1', { ...valid, unique: 1 }, 'INVALID_OPTION', ['definition.unique', '1']],
      [
        'where not a filter',
        { ...valid, where: 'type = x' },
        'VALIDATION_FAILED',
        ['definition.where', '"type = x"'],
      ],
      [
        'where with an unknown kind',
        { ...valid, where: { kind: 'like', field: 'type', value: 'x' } },
        'VALIDATION_FAILED',
        ['definition.where.kind', '"like"'],
      ],
      [
        'where on an unknown field',
        { ...valid, where: f.eq('colour', 'red') },
        'UNKNOWN_FIELD',
        ['definition.where.field', '"colour"'],
      ],
      [
        'where with a bad operand',
        { ...valid, where: f.and(f.eq('type', 'x'), f.gt('payload.amount', true)) },
        'INVALID_OPERAND',
        ['definition.where.and[1].value', 'true'],
      ],
      [
        'where with a bad range',
        { ...valid, where: f.between('payload.amount', 9, 1) },
        'INVALID_RANGE',
        ['definition.where', '9', '1'],
      ],
    ];

    test.each(cases)('createIndex rejects %s', async (_label, definition, code, fragments) => {
      const before = await store.indexes.listIndexes();
      const error = await rejection(() => store.indexes.createIndex(definition as IndexDefinition));
      expectError(error, ValidationError, code, ...fragments);
      expect(await store.indexes.listIndexes()).toEqual(before);
    });

    const badOptions: [label: string, options: unknown, fragments: string[]][] = [
      ['null', null, ['options', 'null']],
      ['a function', () => undefined, ['options', 'a function']],
      ['an unknown option', { onprogress: () => undefined }, ['options.onprogress', 'onProgress']],
      ['onProgress not a function', { onProgress: 'log' }, ['options.onProgress', '"log"']],
    ];

    test.each(badOptions)(
      'createIndex and rebuildIndex reject build options: %s',
      async (_label, options, fragments) => {
        await store.indexes.createIndex(valid);
        const before = await store.indexes.listIndexes();
        for (const call of [
          () => store.indexes.createIndex({ ...valid, name: 'other' }, options as never),
          () => store.indexes.rebuildIndex('ok', options as never),
        ]) {
          const error = await rejection(call);
          expectError(error, ValidationError, 'INVALID_OPTION', ...fragments);
        }
        expect(await store.indexes.listIndexes()).toEqual(before);
      },
    );

    test('createIndex rejects a name already in use', async () => {
      await store.indexes.createIndex(valid);
      for (const definition of [valid, { ...valid, fields: ['type'], type: 'hash' as const }]) {
        const error = await rejection(() => store.indexes.createIndex(definition));
        expectError(error, TammaError, 'INDEX_EXISTS', '"ok"');
      }
      expect((await store.indexes.listIndexes()).filter((index) => index.name === 'ok')).toHaveLength(1);
    });

    test('dropIndex, analyzeIndex and rebuildIndex reject a name that is not a string, naming it', async () => {
      for (const name of [42, null, { name: 'ok' }] as unknown[]) {
        for (const call of [
          () => store.indexes.dropIndex(name as string),
          () => store.indexes.analyzeIndex(name as string),
          () => store.indexes.rebuildIndex(name as string),
        ]) {
          const error = await rejection(call);
          expectError(error, ValidationError, 'VALIDATION_FAILED', 'name', JSON.stringify(name));
        }
      }
    });

    test('dropIndex, analyzeIndex and rebuildIndex reject an unknown name, naming it and the known ones', async () => {
      await store.indexes.createIndex(valid);
      for (const call of [
        () => store.indexes.dropIndex('nope'),
        () => store.indexes.analyzeIndex('nope'),
        () => store.indexes.rebuildIndex('nope'),
      ]) {
        const error = await rejection(call);
        expectError(error, IndexNotFoundError, 'INDEX_NOT_FOUND', '"nope"', 'ok');
        expect((error as IndexNotFoundError).index).toBe('nope');
      }
      // Built-in indexes cannot be dropped or analyzed through store.indexes.
      expectError(
        await rejection(() => store.indexes.dropIndex('type')),
        IndexNotFoundError,
        'INDEX_NOT_FOUND',
        '"type"',
      );
      expectError(
        await rejection(() => store.indexes.analyzeIndex('scan')),
        IndexNotFoundError,
        'INDEX_NOT_FOUND',
      );
    });
  });
}

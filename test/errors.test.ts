import { readFileSync } from 'node:fs';
import { readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as cliErrors from '../src/cli/errors.js';
import * as api from '../src/index.js';
import {
  CorruptionError,
  DuplicateEventIdError,
  ERROR_CODES,
  type ErrorCode,
  openEventStore,
  TammaError,
  UniqueViolationError,
  ValidationError,
} from '../src/index.js';
import { rejection, removeDir, tempDir } from './support/helpers.js';

type ErrorClass = abstract new (...args: never[]) => TammaError;

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

/** The class ERROR_CODES names for a code, from the public API (or, for a CLI code, from src/cli/errors.ts). */
function classOf(code: ErrorCode): unknown {
  const entry: { error: string; cli?: boolean } = ERROR_CODES[code];
  const exports: Record<string, unknown> = entry.cli ? cliErrors : api;
  return exports[entry.error];
}

/** One instance of every error class, built as the library builds it (the codes a class takes as an argument: each). */
function everyKindOfError(): TammaError[] {
  const cause = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  const ioCause = Object.assign(new Error('input/output error'), { code: 'EIO' });
  const codesOf = (name: string) => codes.filter((code) => ERROR_CODES[code].error === name);
  return [
    ...codesOf('TammaError').map((code) => new TammaError(code, 'message')),
    ...codesOf('ValidationError').map((code) => new ValidationError('path', 'message', code as never)),
    new api.ValidationError('path', 'message'),
    new api.EventTooLargeError('events[0]', 2000, 1000),
    new api.ConcurrencyError('a', 1, 2),
    new api.CorruptionError('log', 0, 'bad crc'),
    new api.StoreClosedError(),
    new api.StoreLockedError('/dir', 'pid 1'),
    new api.ReadOnlyError('append', '/dir'),
    new api.QueryCancelledError('q1'),
    new api.QueryTimeoutError('q1', 10),
    new api.UniqueViolationError('by_email', ['payload.email'], ['a@x'], 1, 'held by sequence 1'),
    new api.UniqueViolationError('by_email', ['payload.email'], ['a@x'], [1, 3]),
    new api.DuplicateEventIdError('e1', 1, 0, 'payload'),
    new api.DuplicateEventIdError('e1', { batchIndex: 0 }, 1),
    new api.IndexNotFoundError('nope', []),
    new api.StorageError('could not write', cause),
    new api.StorageError('could not write', ioCause),
    new api.UnsupportedError('userIndexes', 'createIndex needs user-defined indexes'),
    new cliErrors.UsageError('message'),
    new cliErrors.InputError('message'),
    new cliErrors.OutputClosedError(),
  ];
}

describe('ERROR_CODES', () => {
  test('every code names a class the package exports (the CLI codes: a class src/cli/errors.ts exports)', () => {
    for (const code of codes) {
      const type = classOf(code);
      expect(type, code).toBeTypeOf('function');
      if (type !== TammaError) expect((type as ErrorClass).prototype, code).toBeInstanceOf(TammaError);
      expect((type as ErrorClass).name, code).toBe(ERROR_CODES[code].error);
    }
  });

  test('every error class, constructed, carries a declared code, and that code names the class', () => {
    const seen = new Set<string>();
    for (const error of everyKindOfError()) {
      expect(Object.keys(ERROR_CODES), error.name).toContain(error.code);
      expect(ERROR_CODES[error.code].error, error.code).toBe(error.name);
      seen.add(error.code);
    }
    // And every code is carried by some instance above: a code no class yields would be a dead entry.
    expect([...seen].sort()).toEqual([...codes].sort());
  });

  test('every error class the package exports is named in the table', () => {
    const named = new Set(codes.map((code) => ERROR_CODES[code].error));
    const exported = Object.entries({ ...api, ...cliErrors })
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
      .map(([name]) => name);
    for (const name of exported) if (name !== 'TammaError') expect(named, name).toContain(name);
  });

  test('the table is frozen', () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    for (const code of codes) expect(Object.isFrozen(ERROR_CODES[code]), code).toBe(true);
  });

  test('docs/api.md lists exactly this table', () => {
    const text = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
    const begin = '<!-- error-codes:begin (test/errors.test.ts checks this table against ERROR_CODES) -->\n';
    const end = '<!-- error-codes:end -->';
    const start = text.indexOf(begin);
    expect(start, `docs/api.md has no line ${begin}`).toBeGreaterThan(-1);
    const table = text.slice(start + begin.length, text.indexOf(end, start));
    expect(table).toBe(renderTable());
  });
});

/** The Markdown table docs/api.md carries: one row a code, in ERROR_CODES order. */
function renderTable(): string {
  const rows = codes.map((code) => {
    const { error, meaning, cli } = ERROR_CODES[code] as { error: string; meaning: string; cli?: boolean };
    return `| \`${code}\` | \`${error}\`${cli ? ' (CLI)' : ''} | ${meaning} |`;
  });
  return ['| code | class | meaning |', '|---|---|---|', ...rows, ''].join('\n');
}

describe('one class a code, on every path', () => {
  test('a unique index built over stored duplicates fails with UniqueViolationError naming both sequences', async () => {
    const store = await openEventStore({});
    try {
      await store.append([
        { aggregateId: 'u1', type: 'UserRegistered', payload: { email: 'a@x' } },
        { aggregateId: 'u2', type: 'UserRegistered', payload: { email: 'b@x' } },
        { aggregateId: 'u3', type: 'UserRegistered', payload: { email: 'a@x' } },
      ]);
      const error = await rejection(() =>
        store.indexes.createIndex({ name: 'by_email', fields: ['payload.email'], unique: true }),
      );
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect(error).toMatchObject({
        code: 'UNIQUE_VIOLATION',
        index: 'by_email',
        key: ['a@x'],
        sequences: [1, 3],
        eventIndex: undefined,
        path: '',
        message: 'cannot build unique index by_email: sequences 1 and 3 both have payload.email = "a@x"',
      });
    } finally {
      await store.close();
    }
  });

  test('two events of one batch with one id fail with DuplicateEventIdError naming both positions', async () => {
    const store = await openEventStore({});
    try {
      const error = await rejection(() =>
        store.append([
          { id: 'e1', aggregateId: 'a', type: 'T' },
          { id: 'e2', aggregateId: 'a', type: 'T' },
          { id: 'e1', aggregateId: 'b', type: 'U' },
        ]),
      );
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect(error).toMatchObject({
        code: 'DUPLICATE_EVENT_ID',
        id: 'e1',
        eventIndex: 2,
        heldByIndex: 0,
        sequence: undefined,
        path: 'events[2].id',
        message: 'events[2].id: duplicates the id of events[0] ("e1"); ids must be unique within a batch',
      });
      expect(store.stats().events).toBe(0);
    } finally {
      await store.close();
    }
  });

  test('a log segment cut short under an open store reads as CorruptionError', async () => {
    const dir = await tempDir();
    const store = await openEventStore({ dir });
    try {
      await store.append({ aggregateId: 'a', type: 'T', payload: { text: 'x'.repeat(200) } });
      const segment = (await readdir(join(dir, 'log'))).find((name) => name.endsWith('.seg'));
      expect(segment).toBeDefined();
      const file = join(dir, 'log', segment as string);
      await truncate(file, 30);
      const error = await rejection(() => store.getEvents('a'));
      expect(error).toBeInstanceOf(CorruptionError);
      expect(error).toMatchObject({ code: 'CORRUPTION', file });
      expect((error as CorruptionError).detail).toMatch(
        /^the file ends before the \d+-byte record at log offset \d+$/,
      );
    } finally {
      await store.close().catch(() => undefined);
      await removeDir(dir);
    }
  });
});

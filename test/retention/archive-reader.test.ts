import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorruptionError,
  f,
  ManualClock,
  openEventStore,
  ValidationError,
  type EventQuery,
  type NewEvent,
  type StoredEvent,
} from '../../src/index.js';
import { normalizeCriteria } from '../../src/query/criteria.js';
import {
  archiveFrames,
  readManifest,
  type ArchiveEntry,
} from '../../src/storage/embedded/retention/archive.js';
import { queryArchived, rangeOf } from '../../src/storage/embedded/retention/archive-query.js';
import { readArchivedEvents } from '../../src/storage/embedded/retention/archive-reader.js';
import { damageFrameInside, flipFileByte, framesOf } from '../support/archive.js';
import { expectError, removeDir, tempDir } from '../support/helpers.js';
import {
  appendScenario,
  describeQuery,
  filterArb,
  firstInvalid,
  leafOfArb,
  oracle,
  scenarioArb,
  T0 as MODEL_T0,
  type Query,
} from '../support/query-model.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

/**
 * Events that exercise every part of a record: default and explicit ids, non-ASCII names and tag
 * values, tags of every type, nested payloads, metadata, and timestamps out of order.
 */
function batch(b: number): NewEvent[] {
  return Array.from({ length: 3 + b }, (_, i): NewEvent => {
    const event: NewEvent = {
      aggregateId: i % 2 === 0 ? `order-${b}` : `kunde-ä${i}`,
      type: i % 3 === 0 ? 'ORDER.PLACED' : 'ORDER.SHIPPED',
      timestamp: T0 + b * HOUR - i * 60_000,
      payload: { b, i, lines: [{ sku: `s${i}`, qty: i + 1 }], note: i === 1 ? 'größe' : null },
      metadata: { correlationId: `c-${b}-${i}` },
    };
    if (i % 2 === 1) event.tags = { region: i === 1 ? 'süd' : 'north', priority: i, rush: i % 3 === 0 };
    if (i === 0) event.id = `explicit-${b}`;
    return event;
  });
}

let root: string;
let frames: Buffer[];
/** What the appends returned: 5 batches (frames) of 3..7 events, sequences 1..25. */
let appended: StoredEvent[];
let counter = 0;

const freshArchive = (): string => join(root, `archive-${++counter}`);
const seqs = (events: readonly StoredEvent[]): number[] => events.map((e) => e.sequence);
const framesOfBatches = (...batches: number[]): Buffer =>
  Buffer.concat(batches.map((b) => frames[b] as Buffer));
/** Events of the given batches, as appended. */
const eventsOfBatches = (...batches: number[]): StoredEvent[] =>
  batches.flatMap((b) => {
    const first = [0, 1, 2, 3, 4].slice(0, b).reduce((sum, k) => sum + 3 + k, 0);
    return appended.slice(first, first + 3 + b);
  });

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

beforeAll(async () => {
  root = await tempDir('archive-reader-');
  const store = await openEventStore({ dir: join(root, 'store') });
  appended = [];
  for (let b = 0; b < 5; b++) appended.push(...(await store.append(batch(b))));
  await store.close();
  frames = framesOf(join(root, 'store'));
  expect(frames).toHaveLength(5);
  expect(appended).toHaveLength(25);
});

afterAll(async () => {
  await removeDir(root);
});

describe('readArchivedEvents', () => {
  it('returns every archived event exactly as it was appended, and as the store reads it', async () => {
    const archive = freshArchive();
    archiveFrames(archive, framesOfBatches(0, 1));
    archiveFrames(archive, framesOfBatches(2, 3, 4));
    const read = [...readArchivedEvents(archive)];
    expect(read).toEqual(appended);
    const store = await openEventStore({ dir: join(root, 'store') });
    try {
      expect(read).toEqual(await store.read());
    } finally {
      await store.close();
    }
    expect([...readArchivedEvents(archive, { order: 'desc' })]).toEqual([...appended].reverse());
  });

  it('reads sequences with gaps between frames and between files', () => {
    const archive = freshArchive();
    archiveFrames(archive, framesOfBatches(0, 2));
    archiveFrames(archive, framesOfBatches(4));
    expect([...readArchivedEvents(archive)]).toEqual(eventsOfBatches(0, 2, 4));
    expect([...readArchivedEvents(archive, { order: 'desc' })]).toEqual(eventsOfBatches(0, 2, 4).reverse());
  });

  it('merges files whose sequence ranges interleave (a later run archived older sequences)', () => {
    const archive = freshArchive();
    archiveFrames(archive, framesOfBatches(1, 3));
    archiveFrames(archive, framesOfBatches(0, 2));
    archiveFrames(archive, framesOfBatches(4));
    const all = eventsOfBatches(0, 1, 2, 3, 4);
    expect([...readArchivedEvents(archive)]).toEqual(all);
    expect([...readArchivedEvents(archive, { order: 'desc' })]).toEqual([...all].reverse());
    const middle = all.slice(3, 12);
    const bounds = { fromSequence: middle[0]?.sequence, toSequence: middle.at(-1)?.sequence };
    expect([...readArchivedEvents(archive, bounds)]).toEqual(middle);
  });

  it('returns nothing for an archive not yet written', () => {
    expect([...readArchivedEvents(join(root, 'nothing-here'))]).toEqual([]);
  });

  it('keeps to sequence and time bounds (sequences inclusive, from inclusive, to exclusive)', () => {
    const archive = freshArchive();
    archiveFrames(archive, framesOfBatches(0, 1));
    archiveFrames(archive, framesOfBatches(2, 3));
    archiveFrames(archive, framesOfBatches(4));
    const cases = [
      { fromSequence: 5, toSequence: 12 },
      { fromSequence: 25 },
      { toSequence: 1 },
      { fromSequence: 26 },
      { from: T0 + HOUR - 60_000, to: T0 + 3 * HOUR },
      { from: T0 + 2 * HOUR, to: T0 + 2 * HOUR },
      { fromSequence: 8, toSequence: 20, from: T0 + 2 * HOUR - 3 * 60_000 },
    ];
    for (const bounds of cases) {
      const expected = appended.filter(
        (e) =>
          e.sequence >= (bounds.fromSequence ?? 0) &&
          e.sequence <= (bounds.toSequence ?? Infinity) &&
          e.timestamp.getTime() >= (bounds.from ?? -Infinity) &&
          e.timestamp.getTime() < (bounds.to ?? Infinity),
      );
      expect([...readArchivedEvents(archive, bounds)], JSON.stringify(bounds)).toEqual(expected);
      expect([...readArchivedEvents(archive, { ...bounds, order: 'desc' })]).toEqual(expected.reverse());
    }
  });

  it('reads only the files whose manifest ranges can overlap the bounds', () => {
    const archive = freshArchive();
    const first = archiveFrames(archive, framesOfBatches(0, 1)); // sequences 1-7, hours 0-1
    const second = archiveFrames(archive, framesOfBatches(2, 3)); // 8-18, hours 2-3
    archiveFrames(archive, framesOfBatches(4)); // 19-25, hour 4
    // Damage the middle file: reads that cannot touch it still succeed, and never open it.
    flipFileByte(join(archive, second.file), 40);
    const opened: string[] = [];
    const onFile = (entry: ArchiveEntry) => opened.push(entry.file);
    expect(seqs([...readArchivedEvents(archive, { toSequence: 7, onFile })])).toEqual(
      seqs(eventsOfBatches(0, 1)),
    );
    expect(seqs([...readArchivedEvents(archive, { fromSequence: 19, onFile })])).toEqual(
      seqs(eventsOfBatches(4)),
    );
    expect(seqs([...readArchivedEvents(archive, { to: T0 + HOUR + 1, onFile })])).toEqual(
      seqs(eventsOfBatches(0, 1)),
    );
    expect(seqs([...readArchivedEvents(archive, { from: T0 + 4 * HOUR - 10 * 60_000, onFile })])).toEqual(
      seqs(eventsOfBatches(4)),
    );
    expect(opened).not.toContain(second.file);
    expect(opened).toContain(first.file);
    const error = caught(() => [...readArchivedEvents(archive, { fromSequence: 7, toSequence: 8 })]);
    expect(error).toBeInstanceOf(CorruptionError);
    expect((error as CorruptionError).file).toBe(join(archive, second.file));
  });

  describe('detects damage and names the file', () => {
    function damagedRead(damage: (archive: string, entry: ArchiveEntry) => void): CorruptionError {
      const archive = freshArchive();
      archiveFrames(archive, framesOfBatches(0));
      const entry = archiveFrames(archive, framesOfBatches(1, 2));
      damage(archive, entry);
      const events: StoredEvent[] = [];
      const error = caught(() => {
        for (const event of readArchivedEvents(archive)) events.push(event);
      });
      expect(error).toBeInstanceOf(CorruptionError);
      expect((error as CorruptionError).file).toBe(join(archive, entry.file));
      expect((error as Error).message).toContain(entry.file);
      // The intact file before it was read in full: damage is reported where it is, not earlier.
      expect(events).toEqual(eventsOfBatches(0));
      return error as CorruptionError;
    }

    it('a flipped byte in the compressed file', () => {
      const error = damagedRead((archive, entry) => flipFileByte(join(archive, entry.file), 30));
      expect(error.detail).toMatch(/does not match its manifest entry: its CRC-32 differs/);
    });

    it('a truncated file', () => {
      const error = damagedRead((archive, entry) => {
        const path = join(archive, entry.file);
        truncateSync(path, readFileSync(path).length - 7);
      });
      expect(error.detail).toMatch(/does not match its manifest entry: it is \d+ bytes, the entry says \d+/);
    });

    it('a file the manifest names but that is gone', () => {
      const error = damagedRead((archive, entry) => rmSync(join(archive, entry.file)));
      expect(error.detail).toMatch(/the manifest names this file but it does not exist/);
    });

    it('a damaged frame inside a file whose size and CRC-32 are right', () => {
      const error = damagedRead((archive, entry) => damageFrameInside(archive, entry, 100));
      expect(error.detail).toMatch(/bad frame \(bad-checksum\)/);
    });

    it('a file whose frames are not what the manifest says', () => {
      const error = damagedRead((archive, entry) => {
        const other = join(archive, 'other');
        const replacement = archiveFrames(other, framesOfBatches(1));
        writeFileSync(join(archive, entry.file), readFileSync(join(other, replacement.file)));
        const manifestPath = join(archive, 'manifest.json');
        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: ArchiveEntry[] };
        manifest.files[1] = { ...entry, bytes: replacement.bytes, crc32: replacement.crc32 };
        writeFileSync(manifestPath, JSON.stringify(manifest));
      });
      expect(error.detail).toMatch(/holds 4 events in sequences 4-7, its manifest entry says 9 in 4-12/);
    });
  });

  it('checks its options at the door, naming the bad one', () => {
    const archive = freshArchive();
    const cases: [unknown, string][] = [
      [{ fromSequence: -1 }, 'options.fromSequence'],
      [{ toSequence: 1.5 }, 'options.toSequence'],
      [{ fromSequence: 5, toSequence: 4 }, 'options.toSequence'],
      [{ from: '2024-01-01' }, 'options.from'],
      [{ from: 10, to: 9 }, 'options.to'],
      [{ order: 'up' }, 'options.order'],
      [{ toSeq: 3 }, 'options.toSeq'],
    ];
    for (const [options, path] of cases) {
      const error = caught(() => readArchivedEvents(archive, options as never));
      expect(error, path).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe(path);
    }
  });

  it('refuses a damaged manifest before it returns', () => {
    const archive = freshArchive();
    archiveFrames(archive, framesOfBatches(0));
    writeFileSync(join(archive, 'manifest.json'), '{"format":"tamma-archive","files":[{"file":"x.tzf"}]}');
    expect(() => readArchivedEvents(archive)).toThrow(CorruptionError);
    expect(() => readArchivedEvents(archive)).toThrow(/manifest\.json.*files\[0\]/);
  });
});

describe('queryArchived', () => {
  let archive: string;
  let archived: StoredEvent[];

  beforeAll(() => {
    archive = freshArchive();
    archiveFrames(archive, framesOfBatches(0, 1));
    archiveFrames(archive, framesOfBatches(3));
    archiveFrames(archive, framesOfBatches(4));
    archived = eventsOfBatches(0, 1, 3, 4);
  });

  const query = (filter: EventQuery['filter'], rest: Partial<EventQuery> = {}): EventQuery => ({
    kind: 'query',
    filter,
    orderBy: [],
    hints: {},
    ...rest,
  });

  it('answers an EventQuery with the live filter semantics, in sequence order', () => {
    const shipped = archived.filter((e) => e.type === 'ORDER.SHIPPED');
    expect(queryArchived(archive, query(f.eq('type', 'ORDER.SHIPPED')))).toEqual(shipped);
    expect(
      queryArchived(
        archive,
        query(f.eq('type', 'ORDER.SHIPPED'), { orderBy: [{ field: 'sequence', direction: 'desc' }] }),
      ),
    ).toEqual([...shipped].reverse());
    expect(queryArchived(archive, query(f.eq('type', 'ORDER.SHIPPED'), { offset: 2, limit: 3 }))).toEqual(
      shipped.slice(2, 5),
    );
    // Tag values keep their types: the number 1 is not the string '1'.
    expect(seqs(queryArchived(archive, query(f.eq('tags.priority', 1))))).toEqual(
      seqs(archived.filter((e) => e.tags.priority === 1)),
    );
    expect(queryArchived(archive, query(f.eq('tags.priority', '1')))).toEqual([]);
    expect(queryArchived(archive, query(f.eq('payload.lines.0.sku', 's2')))).toEqual(
      archived.filter((e) => (e.payload as { i: number }).i === 2),
    );
    expect(queryArchived(archive, query(f.prefix('aggregateId', 'kunde-ä')))).toEqual(
      archived.filter((e) => e.aggregateId.startsWith('kunde-ä')),
    );
    // A keyset cursor in sequence order.
    expect(
      seqs(queryArchived(archive, query(f.eq('type', 'ORDER.SHIPPED'), { after: { sequence: 20 } }))),
    ).toEqual(seqs(shipped.filter((e) => e.sequence > 20)));
  });

  it('answers normalized queryEvents criteria', () => {
    const criteria = normalizeCriteria({
      type: ['ORDER.PLACED', 'ORDER.SHIPPED'],
      tags: { region: ['süd', 'north'] },
      from: T0 + HOUR - 60 * 60_000,
      afterSequence: 4,
      order: 'desc',
      limit: 4,
    });
    const expected = archived
      .filter(
        (e) =>
          e.tags.region !== undefined && e.timestamp.getTime() >= T0 + HOUR - 60 * 60_000 && e.sequence < 4,
      )
      .reverse()
      .slice(0, 4);
    expect(queryArchived(archive, criteria)).toEqual(expected);
    expect(seqs(queryArchived(archive, normalizeCriteria({ aggregateId: 'order-3' })))).toEqual(
      seqs(archived.filter((e) => e.aggregateId === 'order-3')),
    );
  });

  it('refuses what an archive cannot answer, and bad queries, with a ValidationError', () => {
    expect(() =>
      queryArchived(archive, query(f.eq('type', 'X'), { orderBy: [{ field: 'type', direction: 'asc' }] })),
    ).toThrow(/^orderBy: archived events come in sequence order only/);
    expect(() => queryArchived(archive, query(f.eq('type', 'X'), { select: ['id'] }))).toThrow(
      ValidationError,
    );
    expect(() => queryArchived(archive, query(f.gt('sequence', 'x')))).toThrow(ValidationError);
  });

  it('derives the sequence and time bounds a filter ANDs at its top', () => {
    expect(rangeOf(f.and(f.gt('sequence', 4), f.lte('sequence', 10), f.eq('type', 'x')))).toEqual({
      fromSequence: 5,
      toSequence: 10,
      from: -Infinity,
      to: Infinity,
    });
    expect(rangeOf(f.and(f.in('sequence', [7, 3]), f.and(f.between('timestamp', 100, 200))))).toMatchObject({
      fromSequence: 3,
      toSequence: 7,
      from: 100,
    });
    expect(rangeOf(f.gte('timestamp', 100)).from).toBe(100);
    // Under or / not nothing can be concluded.
    expect(rangeOf(f.or(f.eq('sequence', 4), f.eq('type', 'x')))).toEqual({
      fromSequence: -Infinity,
      toSequence: Infinity,
      from: -Infinity,
      to: Infinity,
    });
    expect(rangeOf(f.not(f.lt('sequence', 4))).fromSequence).toBe(-Infinity);
    // No whole sequence lies strictly between 4 and 5.
    const empty = rangeOf(f.and(f.gt('sequence', 4), f.lt('sequence', 5)));
    expect(empty.fromSequence).toBeGreaterThan(empty.toSequence);
  });

  it('matches a linear scan over the archived events, for random events, archives and queries', async () => {
    const runs = Number(process.env.PROPERTY_DISK_RUNS ?? 20);
    // Sequence and time bounds ANDed at the top are what prune files: generate them often.
    const boundArb = fc.constantFrom('sequence', 'timestamp').chain(leafOfArb);
    const boundedArb = fc
      .tuple(fc.array(boundArb, { minLength: 1, maxLength: 3 }), fc.array(filterArb, { maxLength: 1 }))
      .map(([bounds, rest]) => f.and(...bounds, ...rest));
    const queryArb = fc.record({
      filter: fc.oneof(filterArb, boundedArb),
      direction: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
      offset: fc.option(fc.nat(5), { nil: undefined }),
      limit: fc.option(fc.nat(15), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        scenarioArb(60),
        // Which frames go to the archive (false: stays live only) and where a new file starts.
        fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 60, maxLength: 60 }),
        fc.array(queryArb, { minLength: 1, maxLength: 12 }),
        async (scenario, layout, queries) => {
          const dir = await tempDir('archive-property-');
          try {
            const clock = new ManualClock(MODEL_T0);
            const store = await openEventStore({ dir: join(dir, 'store'), clock });
            const all = await appendScenario(store, clock, scenario);
            await store.close();
            const archive = join(dir, 'archive');
            const kept: StoredEvent[] = [];
            let file: Buffer[] = [];
            const flush = () => {
              if (file.length > 0) archiveFrames(archive, Buffer.concat(file));
              file = [];
            };
            let next = 0;
            framesOf(join(dir, 'store')).forEach((frame, i) => {
              const count = frame.readUInt32LE(20);
              const [archived, newFile] = layout[i % layout.length] as [boolean, boolean];
              if (newFile) flush();
              if (archived) {
                file.push(frame);
                kept.push(...all.slice(next, next + count));
              }
              next += count;
            });
            flush();
            expect(readManifest(archive).reduce((sum, e) => sum + e.events, 0)).toBe(kept.length);
            expect([...readArchivedEvents(archive)]).toEqual(kept);
            for (const q of queries) {
              const model: Query = {
                filter: q.filter,
                orderBy: [{ field: 'sequence', direction: q.direction }],
                ...(q.offset === undefined ? {} : { offset: q.offset }),
                ...(q.limit === undefined ? {} : { limit: q.limit }),
              };
              const ast: EventQuery = {
                kind: 'query',
                filter: q.filter,
                orderBy: q.direction === 'asc' ? [] : [{ field: 'sequence', direction: 'desc' }],
                hints: {},
                ...(q.offset === undefined ? {} : { offset: q.offset }),
                ...(q.limit === undefined ? {} : { limit: q.limit }),
              };
              const code = firstInvalid(q.filter);
              if (code !== undefined) {
                expectError(
                  caught(() => queryArchived(archive, ast)),
                  ValidationError,
                  code,
                );
                continue;
              }
              expect(queryArchived(archive, ast), describeQuery(model)).toEqual(oracle(kept, model));
            }
          } finally {
            await removeDir(dir);
          }
        },
      ),
      { numRuns: runs },
    );
  });
});

/**
 * The in-place cut primitives (cleanup removing the oldest rows without rebuilding) against naive
 * oracles: RowList.withoutFront, PostingIndex.dropBelow, TimeIndex.dropBelow, the releasing
 * dictionaries (Dictionary, TagValues) and EventTable.dropBelow with releaseEmptied (whole or in
 * slices, appends in between).
 *
 * Every property interleaves appends and cuts whose floors only grow and fall inside the row range,
 * at its end and past it; after every step the structure (and a copy restored from its checkpoint,
 * metadata through JSON) must answer exactly what the oracle computes from the rows >= floor. Some
 * steps replace the structure by its restored copy, so appends and cuts after a restore are checked
 * too. The oracles are plain arrays and maps and run no engine code.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Tags, TagValue } from '../../src/events/types.js';
import { PostingIndex, PROMOTE_AT } from '../../src/storage/embedded/table/posting-index.js';
import { RowList, type SortedRows } from '../../src/storage/embedded/table/sorted-rows.js';
import { TimeIndex } from '../../src/storage/embedded/table/time-index.js';
import { ArrayCursor, type RawArray } from '../../src/storage/embedded/table/snapshot.js';
import { Dictionary } from '../../src/storage/embedded/table/dictionary.js';
import { EventTable, type EmptiedIds } from '../../src/storage/embedded/table/event-table.js';
import { TagValues } from '../../src/storage/embedded/table/tag-values.js';
import { randomInt, seededRandom } from '../support/random.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 5, 1);
/** RowList's block size (sorted-rows.ts): cuts and pushes must cross it. */
const BLOCK = 8192;

function toArray(rows: SortedRows): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) out.push(rows.at(i));
  return out;
}

/**
 * A checkpoint round trip: the metadata through JSON, the arrays handed back in order. With `copy`
 * the arrays are copied first, as a file holds its own bytes (the copy may then be appended to);
 * without, the copy only reads and may share them.
 */
function roundTrip<M, T>(
  snapshot: (out: RawArray[]) => M,
  restore: (meta: M, cursor: ArrayCursor) => T,
  copy: boolean,
): T {
  const out: RawArray[] = [];
  const meta = snapshot(out);
  const arrays = copy ? out.map((array) => array.slice()) : out;
  return restore(JSON.parse(JSON.stringify(meta)) as M, new ArrayCursor(arrays));
}

// ---------------------------------------------------------------------------------------------
// Floors

type Where = 'inside' | 'at' | 'past' | 'again';
interface Cut {
  where: Where;
  /** For 'inside': where in [floor, end), in thousandths. */
  frac: number;
  /** For 'past': how far past the end. */
  extra: number;
}

const cutArb: fc.Arbitrary<Cut> = fc.record({
  where: fc.constantFrom<Where>('inside', 'inside', 'at', 'past', 'again'),
  frac: fc.integer({ min: 0, max: 1000 }),
  extra: fc.integer({ min: 1, max: 40 }),
});

/** The next floor: never below `floor`; `end` is one past the highest row added. */
function nextFloor(floor: number, end: number, cut: Cut): number {
  const top = Math.max(floor, end);
  switch (cut.where) {
    case 'inside':
      return floor + Math.floor(((top - floor) * cut.frac) / 1000);
    case 'at':
      return top;
    case 'past':
      return top + cut.extra;
    case 'again':
      return floor;
  }
}

// ---------------------------------------------------------------------------------------------
// 1 + 2. PostingIndex (and the RowLists it hands out)

const KEY_SPACE = 8;

class PostingModel {
  readonly rows = new Map<number, number[]>();
  readonly dense = new Set<number>();
  next = 0;
  floor = 0;

  add(key: number, row: number): void {
    const list = this.rows.get(key) ?? [];
    if (!this.dense.has(key) && list.length + 1 > PROMOTE_AT) this.dense.add(key);
    list.push(row);
    this.rows.set(key, list);
  }

  /** Returns the keys emptied, ascending. */
  cut(floor: number): number[] {
    const emptied: number[] = [];
    for (const [key, list] of this.rows) {
      const kept = list.filter((row) => row >= floor);
      if (kept.length > 0) {
        this.rows.set(key, kept);
      } else {
        this.rows.delete(key);
        this.dense.delete(key);
        emptied.push(key);
      }
    }
    this.floor = floor;
    this.next = Math.max(this.next, floor);
    return emptied.sort((a, b) => a - b);
  }
}

function observePosting(p: PostingIndex) {
  const perKey = [];
  for (let key = 0; key < KEY_SPACE + 2; key++) {
    perKey.push({
      key,
      rows: toArray(p.rows(key)),
      lookup: toArray(p.lookup(key)),
      count: p.count(key),
      last: p.last(key),
      dense: p.isDense(key),
    });
  }
  return {
    keys: p.keys,
    entries: p.entries,
    perKey,
    outside: [p.count(1000), p.last(1000), p.last(-1), p.rows(-1).length, p.isDense(1000)],
  };
}

function expectedPosting(model: PostingModel): ReturnType<typeof observePosting> {
  const perKey = [];
  let entries = 0;
  for (let key = 0; key < KEY_SPACE + 2; key++) {
    const rows = model.rows.get(key) ?? [];
    entries += rows.length;
    perKey.push({
      key,
      rows,
      lookup: rows,
      count: rows.length,
      last: rows.at(-1) ?? -1,
      dense: model.dense.has(key),
    });
  }
  return { keys: model.rows.size, entries, perKey, outside: [0, -1, -1, 0, false] };
}

type PostingOp =
  | { op: 'add'; key: number; gap: number }
  | { op: 'burst'; key: number; n: number; every: number; other: number }
  | { op: 'cut'; cut: Cut }
  | { op: 'reload' };

/** Mostly adjacent rows, now and then a jump past a 65536-row column chunk. */
const gapArb = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.constant(70_000) },
);

const postingOpArb: fc.Arbitrary<PostingOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      key: fc.integer({ min: 0, max: KEY_SPACE - 1 }),
      gap: gapArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('burst' as const),
      key: fc.integer({ min: 0, max: KEY_SPACE - 1 }),
      n: fc.integer({ min: 1, max: 150 }),
      every: fc.integer({ min: 2, max: 9 }),
      other: fc.integer({ min: 0, max: KEY_SPACE - 1 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('cut' as const), cut: cutArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const) }) },
);

const restorePosting = (p: PostingIndex, copy: boolean): PostingIndex =>
  roundTrip(
    (out) => p.snapshot(out),
    (meta, cursor) => {
      const q = new PostingIndex();
      q.restore(meta, cursor);
      return q;
    },
    copy,
  );

/**
 * A list a query took before a cut, with what it read then. Once the cut swapped it for a shorter
 * list (`frozen`), nothing writes to it any more: it must read exactly that forever. A list the cut
 * left in place is still the key's live list and grows with later adds: what it held must stay.
 */
interface Held {
  list: SortedRows;
  values: number[];
  frozen: boolean;
}

function expectHeld(held: readonly Held[]): void {
  for (const { list, values, frozen } of held) {
    if (frozen) expect(list.length, 'a list held across a cut changed length').toBe(values.length);
    else expect(list.length, 'a live list lost rows').toBeGreaterThanOrEqual(values.length);
    // Compared by hand: these lists run to tens of thousands of rows.
    for (let i = 0; i < values.length; i++) {
      if (list.at(i) !== values[i])
        expect(toArray(list).slice(0, values.length), 'a held list changed').toEqual(values);
    }
  }
}

function runPosting(ops: readonly PostingOp[]): void {
  let p = new PostingIndex();
  const model = new PostingModel();
  const held: Held[] = [];
  const add = (key: number, row: number) => {
    p.add(key, row);
    model.add(key, row);
    model.next = row + 1;
  };
  for (const step of ops) {
    switch (step.op) {
      case 'add':
        add(step.key, model.next + step.gap);
        break;
      case 'burst':
        // Mostly one key, every `every`th row to another: the key goes dense past PROMOTE_AT.
        for (let i = 0; i < step.n; i++) add(i % step.every === 0 ? step.other : step.key, model.next);
        break;
      case 'cut': {
        const taken: [number, Held][] = [];
        for (let key = 0; key < KEY_SPACE; key++) {
          if (!p.isDense(key)) continue;
          const list = p.rows(key);
          taken.push([key, { list, values: toArray(list), frozen: false }]);
        }
        const floor = nextFloor(model.floor, model.next, step.cut);
        const emptied = p.dropBelow(floor);
        expect(
          [...emptied].sort((a, b) => a - b),
          `keys emptied by dropBelow(${floor})`,
        ).toEqual(model.cut(floor));
        for (const [key, hold] of taken) {
          hold.frozen = p.rows(key) !== hold.list;
          held.push(hold);
        }
        if (held.length > 12) held.splice(0, held.length - 12);
        break;
      }
      case 'reload':
        p = restorePosting(p, true);
        break;
    }
    const expected = expectedPosting(model);
    expect(observePosting(p)).toEqual(expected);
    expect(observePosting(restorePosting(p, false)), 'restored from a checkpoint').toEqual(expected);
    expectHeld(held);
  }
}

describe('PostingIndex.dropBelow', () => {
  test('adds and cuts interleaved answer like the oracle; emptied keys are reused empty', () => {
    fc.assert(
      fc.property(fc.array(postingOpArb, { minLength: 1, maxLength: 40, size: 'max' }), (ops) =>
        runPosting(ops),
      ),
      { numRuns: 200 },
    );
  });

  test('a dense key cut to a few rows stays dense, then grows again', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: PROMOTE_AT + 1, max: 300 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 3 }),
        (size, keep, more, noise) => {
          const ops: PostingOp[] = [
            { op: 'burst', key: 1, n: size, every: 1000, other: 1 },
            { op: 'add', key: 2, gap: noise },
          ];
          // A floor leaving `keep` rows of key 1 (and key 2's row).
          const frac = Math.floor(((size - keep) * 1000) / (size + 1 + noise));
          ops.push({ op: 'cut', cut: { where: 'inside', frac, extra: 1 } });
          for (let i = 0; i < more; i++) ops.push({ op: 'add', key: i % 5 === 0 ? 3 : 1, gap: 0 });
          ops.push({ op: 'reload' }, { op: 'add', key: 1, gap: 0 });
          ops.push(
            { op: 'cut', cut: { where: 'inside', frac: 500, extra: 1 } },
            { op: 'add', key: 1, gap: 0 },
          );
          runPosting(ops);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a dense key cut exactly to its last row, then to none, then reused by a new key', () => {
    const ops: PostingOp[] = [
      { op: 'burst', key: 0, n: PROMOTE_AT + 10, every: 1000, other: 0 },
      { op: 'add', key: 5, gap: 0 },
      { op: 'cut', cut: { where: 'inside', frac: 999, extra: 1 } },
      { op: 'cut', cut: { where: 'at', frac: 0, extra: 1 } },
      { op: 'add', key: 0, gap: 0 },
      { op: 'burst', key: 0, n: PROMOTE_AT + 1, every: 1000, other: 0 },
      { op: 'reload' },
      { op: 'cut', cut: { where: 'past', frac: 0, extra: 5 } },
      { op: 'add', key: 0, gap: 0 },
    ];
    runPosting(ops);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. RowList: a list taken before a cut reads the same afterwards

type RowListOp =
  { op: 'push'; n: number; step: number } | { op: 'cut'; frac: number; over: boolean } | { op: 'reload' };

const rowListOpArb: fc.Arbitrary<RowListOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('push' as const),
      n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 9000 })),
      step: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('cut' as const),
      frac: fc.integer({ min: 0, max: 1000 }),
      over: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const) }) },
);

describe('RowList.withoutFront', () => {
  test('cuts and pushes answer like an array; every earlier list still reads the same', () => {
    fc.assert(
      fc.property(fc.array(rowListOpArb, { minLength: 1, maxLength: 20, size: 'max' }), (ops) => {
        let list = new RowList();
        let model: number[] = [];
        let next = 0;
        const held: Held[] = [];
        for (const step of ops) {
          if (step.op === 'push') {
            for (let i = 0; i < step.n; i++) {
              list.push(next);
              model.push(next);
              next += step.step;
            }
          } else if (step.op === 'cut') {
            const before = list;
            const count = step.over
              ? model.length + 1 + (step.frac % 7)
              : Math.floor((model.length * step.frac) / 1000);
            list = list.withoutFront(count);
            expect(list).not.toBe(before);
            held.push({ list: before, values: [...model], frozen: true });
            if (held.length > 3) held.shift();
            model = model.slice(count);
          } else {
            list = roundTrip(
              (out) => list.snapshot(out),
              (meta, cursor) => RowList.restore(meta, cursor),
              true,
            );
          }
          expectHeld([{ list, values: model, frozen: true }]);
          // Whole blocks before the cut are let go: what stays spans at most length / BLOCK + 1 blocks.
          expect(list.bytes).toBeLessThanOrEqual((Math.ceil(model.length / BLOCK) + 1) * BLOCK * 4);
          expectHeld(held);
        }
        // The restored list carries on where the live one would.
        const restored = roundTrip(
          (out) => list.snapshot(out),
          (meta, cursor) => RowList.restore(meta, cursor),
          true,
        );
        for (let i = 0; i < BLOCK + 3; i++) {
          list.push(next + i);
          restored.push(next + i);
        }
        expect(toArray(restored)).toEqual(toArray(list));
      }),
      { numRuns: 100 },
    );
  });

  test('withoutFront at, just before and just after a block boundary', () => {
    for (const total of [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 2 * BLOCK + 5]) {
      for (const cut of [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, total - 1, total, total + 3]) {
        if (cut < 0) continue;
        const list = new RowList();
        for (let i = 0; i < total; i++) list.push(i * 2);
        const before = toArray(list);
        const after = list.withoutFront(cut);
        const model = before.slice(cut);
        for (let i = 0; i < 3; i++) {
          after.push(10 * total + i);
          model.push(10 * total + i);
        }
        expect(toArray(after), `total ${total}, cut ${cut}`).toEqual(model);
        expect(toArray(list), `total ${total}, cut ${cut}: the original`).toEqual(before);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. TimeIndex with late timestamps

class TimeModel {
  /** Row -> timestamp, for rows added (cut ones too: their timestamps stay readable). */
  readonly ts = new Map<number, number>();
  /** Rows >= floor, ascending. */
  kept: number[] = [];
  next = 0;
  floor = 0;
  maxTs = T0;
  readonly all: number[] = [];

  add(row: number, ts: number): void {
    this.ts.set(row, ts);
    this.kept.push(row);
    this.all.push(ts);
    this.next = row + 1;
    this.maxTs = Math.max(this.maxTs, ts);
  }

  range(from: number, to: number): number[] {
    return this.kept.filter((row) => {
      const ts = this.ts.get(row) as number;
      return ts >= from && ts < to;
    });
  }

  hours(): [number, number][] {
    const hours = new Map<number, number>();
    for (const row of this.kept) {
      const hour = TimeIndex.hourOf(this.ts.get(row) as number);
      hours.set(hour, (hours.get(hour) ?? 0) + 1);
    }
    return [...hours].sort((a, b) => a[0] - b[0]);
  }
}

/** Query windows: everything, nothing, and bounds at, just around and between timestamps seen. */
function windowsFor(all: readonly number[], random: () => number): [number, number][] {
  const windows: [number, number][] = [
    [-Infinity, Infinity],
    [T0, T0],
  ];
  if (all.length === 0) return windows;
  const pick = () => {
    const ts = all[randomInt(random, 0, all.length - 1)] as number;
    const shift = random() < 0.5 ? randomInt(random, -1, 1) : randomInt(random, -2, 2) * (HOUR / 2);
    return ts + shift;
  };
  for (let i = 0; i < 6; i++) {
    const a = pick();
    const b = pick();
    windows.push(a <= b ? [a, b] : [b, a]);
  }
  return windows;
}

function observeTime(index: TimeIndex, windows: readonly [number, number][]) {
  return {
    entries: index.entries,
    hours: [...index.hours].sort((a, b) => a[0] - b[0]),
    windows: windows.map(([from, to]) => ({
      from,
      to,
      range: Array.from(index.range(from, to)),
      count: index.count(from, to),
    })),
  };
}

function expectedTime(
  model: TimeModel,
  windows: readonly [number, number][],
): ReturnType<typeof observeTime> {
  return {
    entries: model.kept.length,
    hours: model.hours(),
    windows: windows.map(([from, to]) => {
      const range = model.range(from, to);
      return { from, to, range, count: range.length };
    }),
  };
}

type TimeOp =
  | { op: 'add'; gap: number; late: boolean; dt: number }
  | { op: 'lateBurst'; n: number; seed: number }
  | { op: 'cut'; cut: Cut }
  | { op: 'reload' };

const timeAddArb = fc.record({
  op: fc.constant('add' as const),
  gap: fc.oneof(
    { weight: 5, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
  ),
  late: fc.boolean(),
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * HOUR })),
});

function timeOpArb(burst: boolean): fc.Arbitrary<TimeOp> {
  return fc.oneof(
    { weight: 8, arbitrary: timeAddArb },
    {
      weight: burst ? 2 : 0,
      arbitrary: fc.record({
        op: fc.constant('lateBurst' as const),
        n: fc.integer({ min: 300, max: 1400 }),
        seed: fc.integer(),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('cut' as const), cut: cutArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const) }) },
  );
}

function runTime(ops: readonly TimeOp[], seed: number): void {
  const model = new TimeModel();
  const timestampOf = (row: number) => {
    const ts = model.ts.get(row);
    if (ts === undefined) throw new Error(`timestamp of row ${row}, never added`);
    return ts;
  };
  let index = new TimeIndex(timestampOf);
  const restore = (copy: boolean) =>
    roundTrip(
      (out) => index.snapshot(out),
      (meta, cursor) => {
        const restored = new TimeIndex(timestampOf);
        restored.restore(meta, cursor);
        return restored;
      },
      copy,
    );
  const random = seededRandom(seed);
  const add = (gap: number, late: boolean, dt: number) => {
    const row = model.next + gap;
    const ts = late ? model.maxTs - dt : model.maxTs + dt;
    index.add(row, ts);
    model.add(row, ts);
  };
  for (const step of ops) {
    switch (step.op) {
      case 'add':
        add(step.gap, step.late, step.dt);
        break;
      case 'lateBurst': {
        // Enough late rows to fill the buffer (1024) and sort them into runs, merged as they grow.
        const r = seededRandom(step.seed);
        for (let i = 0; i < step.n; i++) add(r() < 0.1 ? 1 : 0, r() < 0.9, randomInt(r, 0, 2 * HOUR));
        break;
      }
      case 'cut': {
        const floor = nextFloor(model.floor, model.next, step.cut);
        // The caller counts the rows removed per hour (it reads their timestamps before they go).
        const removedHours = new Map<number, number>();
        for (const row of model.kept) {
          if (row >= floor) break;
          const hour = TimeIndex.hourOf(model.ts.get(row) as number);
          removedHours.set(hour, (removedHours.get(hour) ?? 0) + 1);
        }
        index.dropBelow(floor, removedHours);
        model.kept = model.kept.filter((row) => row >= floor);
        model.floor = floor;
        model.next = Math.max(model.next, floor);
        break;
      }
      case 'reload':
        index = restore(true);
        break;
    }
    const windows = windowsFor(model.all, random);
    const expected = expectedTime(model, windows);
    expect(observeTime(index, windows)).toEqual(expected);
    expect(observeTime(restore(false), windows), 'restored from a checkpoint').toEqual(expected);
    const histogram = [...index.hours.values()];
    expect(histogram.every((n) => n > 0)).toBe(true);
    expect(histogram.reduce((a, b) => a + b, 0)).toBe(model.kept.length);
  }
}

describe('TimeIndex.dropBelow', () => {
  test('range, count and the hour histogram equal the oracle over the rows kept', () => {
    fc.assert(
      fc.property(
        fc.array(timeOpArb(false), { minLength: 1, maxLength: 40, size: 'max' }),
        fc.integer(),
        (ops, seed) => runTime(ops, seed),
      ),
      { numRuns: 200 },
    );
  });

  test('cuts landing on late rows already sorted into runs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024, max: 1500 }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 4 }),
        fc.integer(),
        fc.integer(),
        (n, fracs, burstSeed, seed) => {
          const ops: TimeOp[] = [{ op: 'lateBurst', n, seed: burstSeed }];
          for (const frac of fracs) {
            ops.push({ op: 'cut', cut: { where: 'inside', frac, extra: 1 } });
            ops.push({ op: 'add', gap: 0, late: true, dt: 1000 }, { op: 'reload' });
          }
          runTime(ops, seed);
        },
      ),
      { numRuns: 15 },
    );
  });

  test('with enough late rows to form sorted runs', () => {
    fc.assert(
      fc.property(
        fc.array(timeOpArb(true), { minLength: 1, maxLength: 14, size: 'max' }),
        fc.integer(),
        (ops, seed) => runTime(ops, seed),
      ),
      { numRuns: 25 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Dictionary and TagValues: release and reuse

type DictOp = { op: 'intern'; value: number } | { op: 'release'; id: number } | { op: 'reload' };

function dictOpArb(pool: number): fc.Arbitrary<DictOp> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('intern' as const),
        value: fc.integer({ min: 0, max: pool - 1 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('release' as const),
        id: fc.integer({ min: 0, max: pool + 1 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const) }) },
  );
}

/** What both dictionaries offer. */
interface Interning<V> {
  readonly size: number;
  intern(value: V): number;
  idOf(value: V): number | undefined;
  valueOf(id: number): V;
  release(id: number): void;
  toJSON(): (V | null)[];
}

function runDictionary<V>(
  pool: readonly V[],
  make: () => Interning<V>,
  from: (values: (V | null)[]) => Interning<V>,
  ops: readonly DictOp[],
  count?: (d: Interning<V>) => number,
): void {
  let dictionary = make();
  /** The oracle: id -> value, undefined for released ids. */
  const byId: (V | undefined)[] = [];
  for (const step of ops) {
    if (step.op === 'intern') {
      const value = pool[step.value] as V;
      const known = byId.findIndex((v) => v !== undefined && Object.is(v, value));
      const free = byId.flatMap((v, id) => (v === undefined ? [id] : []));
      const id = dictionary.intern(value);
      if (known >= 0) {
        expect(id, `intern(${String(value)}) again`).toBe(known);
      } else if (free.length > 0) {
        expect(free, `intern(${String(value)}) reuses a released id`).toContain(id);
      } else {
        expect(id, `intern(${String(value)}) takes a new id`).toBe(byId.length);
      }
      byId[id] = value;
    } else if (step.op === 'release') {
      dictionary.release(step.id);
      if (step.id < byId.length) byId[step.id] = undefined;
    } else {
      dictionary = from(JSON.parse(JSON.stringify(dictionary.toJSON())) as (V | null)[]);
    }
    const valueOf = (id: number) => {
      try {
        return { value: dictionary.valueOf(id) };
      } catch (error) {
        return { thrown: error instanceof RangeError ? 'RangeError' : String(error) };
      }
    };
    // toEqual tells "1", 1 and true apart.
    expect({
      size: dictionary.size,
      count: count?.(dictionary),
      json: dictionary.toJSON(),
      idOf: pool.map((value) => dictionary.idOf(value)),
      valueOf: byId.map((_, id) => valueOf(id)),
    }).toEqual({
      size: byId.length,
      count: count === undefined ? undefined : byId.filter((v) => v !== undefined).length,
      json: byId.map((v) => (v === undefined ? null : v)),
      idOf: pool.map((value) => {
        const id = byId.findIndex((v) => v !== undefined && Object.is(v, value));
        return id < 0 ? undefined : id;
      }),
      valueOf: byId.map((value) => (value === undefined ? { thrown: 'RangeError' } : { value })),
    });
  }
}

const STRINGS = ['a', 'b', 'c', 'd', 'e', '', 'null', '__proto__'];
const TAG_POOL: TagValue[] = ['1', 1, true, false, 'true', 'false', 0, '0', '', 1.5, -2, 'x'];

describe('Dictionary and TagValues release', () => {
  test('Dictionary: ids unique among live values, released ids reused, load keeps ids', () => {
    fc.assert(
      fc.property(fc.array(dictOpArb(STRINGS.length), { maxLength: 60, size: 'max' }), (ops) =>
        runDictionary(
          STRINGS,
          () => new Dictionary(),
          (values) => Dictionary.from(values as (string | null)[]),
          ops,
          (d) => (d as Dictionary).count,
        ),
      ),
      { numRuns: 200 },
    );
  });

  test('Dictionary.load into an empty dictionary equals Dictionary.from', () => {
    fc.assert(
      fc.property(fc.array(dictOpArb(STRINGS.length), { maxLength: 40, size: 'max' }), (ops) =>
        runDictionary(
          STRINGS,
          () => new Dictionary(),
          (values) => new Dictionary().load(values as (string | null)[]),
          ops,
          (d) => (d as Dictionary).count,
        ),
      ),
      { numRuns: 100 },
    );
  });

  test('TagValues: "1", 1 and true stay distinct through release, reuse and reload', () => {
    fc.assert(
      fc.property(fc.array(dictOpArb(TAG_POOL.length), { maxLength: 60, size: 'max' }), (ops) =>
        runDictionary(
          TAG_POOL,
          () => new TagValues(),
          (values) => TagValues.from(values),
          ops,
        ),
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 5. EventTable.dropBelow

const STREAMS = ['s0', 's1', 's2', 's3', 's4'];
const TYPES = ['A', 'B', 'C'];
const TAG_KEYS: Record<string, TagValue[]> = { k: ['1', 1, true, 'x'], m: [false, 0, '0'] };

const tagLabel = (key: string, value: TagValue) => `${key}=${typeof value}:${String(value)}`;

interface Ev {
  aggregate: string;
  type: string;
  ts: number;
  version: number;
  offset: number;
  length: number;
  tags: Tags;
}

class TableModel {
  /** By row; null for a sequence the log skipped (a hole: skipTo). */
  readonly events: (Ev | null)[] = [];
  /** Rows below it are removed. */
  floor = 0;
  /** The floor last asked for: only grows (may be past the rows). */
  asked = 0;
  maxTs = T0;
  offset = 0;
  /** Present rows per stream, ascending. */
  readonly streams = new Map<string, number[]>();
  /** Streams whose aggregate postings are dense (they had more than PROMOTE_AT rows at once). */
  readonly dense = new Set<string>();
  readonly all: number[] = [];
  readonly everAdded = new Set<string>();
  /** What cuts emptied and releaseEmptied has not finished with: its ids may or may not be released. */
  readonly handles: EmptiedIds[] = [];
  readonly pendingStreams = new Set<string>();
  readonly pendingTags = new Set<string>();

  /**
   * The highest version each stream has had while its id was held (what EventTable.streamVersion
   * answers): a stream whose id was released starts again at 1.
   */
  readonly maxVersion = new Map<string, number>();

  /** `held`: whether the stream's id is held now (known when it has rows; the table says while a release is pending). */
  add(aggregate: string, type: string, late: boolean, dt: number, tags: Tags, held: boolean): Ev {
    const rows = this.streams.get(aggregate) ?? [];
    const version = held ? (this.maxVersion.get(aggregate) ?? 0) + 1 : 1;
    this.maxVersion.set(aggregate, version);
    const ts = late ? this.maxTs - dt : this.maxTs + dt;
    this.maxTs = Math.max(this.maxTs, ts);
    const length = 1 + (this.events.length % 50);
    const event: Ev = { aggregate, type, ts, version, offset: this.offset, length, tags };
    this.offset += length;
    if (!this.dense.has(aggregate) && rows.length + 1 > PROMOTE_AT) this.dense.add(aggregate);
    rows.push(this.events.length);
    this.streams.set(aggregate, rows);
    this.everAdded.add(aggregate);
    this.events.push(event);
    this.all.push(ts);
    return event;
  }

  skip(n: number): void {
    for (let i = 0; i < n; i++) this.events.push(null);
  }

  /** Returns the rows removed. */
  cut(asked: number): number {
    this.asked = asked;
    const floor = Math.max(this.floor, Math.min(asked, this.events.length));
    const removed = this.events.slice(this.floor, floor).filter((e) => e !== null).length;
    const tagsBefore = this.liveTags();
    this.floor = floor;
    for (const [name, rows] of this.streams) {
      const kept = rows.filter((row) => row >= floor);
      if (kept.length > 0) {
        this.streams.set(name, kept);
      } else {
        this.streams.delete(name);
        this.dense.delete(name);
        this.pendingStreams.add(name);
      }
    }
    const tagsAfter = this.liveTags();
    for (const label of tagsBefore) if (!tagsAfter.has(label)) this.pendingTags.add(label);
    return removed;
  }

  /** Labels (tagLabel) of the tag values some present row holds. */
  liveTags(): Set<string> {
    const labels = new Set<string>();
    for (const row of this.present) {
      const { tags } = this.events[row] as Ev;
      for (const key in tags) labels.add(tagLabel(key, tags[key] as TagValue));
    }
    return labels;
  }

  get present(): number[] {
    const rows: number[] = [];
    for (let row = this.floor; row < this.events.length; row++) if (this.events[row] !== null) rows.push(row);
    return rows;
  }
}

/** Stream `KEPT` is one that releaseEmptied's `keep` holds (a deleted stream): its id is never released. */
const KEPT = 's4';

/** An id releaseEmptied may or may not have released yet. */
const EITHER = 'either';
type Live = boolean | typeof EITHER;

function observeTable(t: EventTable, windows: readonly [number, number][]) {
  const stats = t.indexStats();
  const streams: Record<string, { live: Live } & Record<string, unknown>> = {};
  const aggregateIds: number[] = [];
  for (const name of [...STREAMS, 'never']) {
    const id = t.aggregates.idOf(name);
    if (id !== undefined) aggregateIds.push(id);
    streams[name] = {
      rows: toArray(t.aggregateRows(name)),
      count: t.aggregateCount(name),
      version: t.streamVersion(name),
      live: (id !== undefined) as Live,
      dense: id !== undefined && t.byAggregate.isDense(id),
      byType: Object.fromEntries(
        [...TYPES, 'Z'].map((type) => [type, toArray(t.aggregateTypeRows(name, type))]),
      ),
    };
  }
  const types: Record<string, unknown> = {};
  for (const type of [...TYPES, 'Z'])
    types[type] = { rows: toArray(t.typeRows(type)), count: t.typeCount(type) };
  const tags: Record<string, { live: Live } & Record<string, unknown>> = {};
  const tagIdsUnique: Record<string, boolean> = {};
  for (const [key, pool] of Object.entries(TAG_KEYS)) {
    const ids: number[] = [];
    for (const value of pool) {
      const id = t.tags.get(key)?.values.idOf(value);
      if (id !== undefined) ids.push(id);
      tags[tagLabel(key, value)] = {
        rows: toArray(t.tagRows(key, value)),
        quiet: toArray(t.tagRowsQuiet(key, value)),
        count: t.tagCount(key, value),
        live: (id !== undefined) as Live,
      };
    }
    tagIdsUnique[key] = new Set(ids).size === ids.length;
  }
  const rows = [];
  for (let row = 0; row < t.rows; row++) {
    rows.push(
      t.isRemoved(row)
        ? null
        : {
            aggregate: t.aggregates.valueOf(t.aggregateId.get(row)),
            type: t.types.valueOf(t.typeId.get(row)),
            ts: t.timestamp.get(row),
            version: t.version.get(row),
            offset: t.recordOffset.get(row),
            length: t.recordLength.get(row),
          },
    );
  }
  return {
    rows: t.rows,
    present: t.present,
    hasHoles: t.hasHoles,
    liveStreams: t.aggregates.count,
    aggregateIdsUnique: new Set(aggregateIds).size === aggregateIds.length,
    tagIdsUnique,
    streams,
    types,
    tags,
    table: rows,
    time: observeTime(t.byTime, windows),
    stats: {
      aggregate: [stats.aggregate?.keys, stats.aggregate?.entries],
      type: stats.type?.entries,
      composite: [stats['aggregate+type']?.keys, stats['aggregate+type']?.entries],
      timestamp: stats.timestamp?.entries,
      tags: Object.keys(TAG_KEYS).map((key) => stats[`tags.${key}`]?.entries ?? 0),
    },
  };
}

function expectedTable(m: TableModel, windows: readonly [number, number][]): ReturnType<typeof observeTable> {
  const present = m.present;
  const events = m.events;
  const ev = (row: number) => events[row] as Ev;
  const streams: Record<string, { live: Live } & Record<string, unknown>> = {};
  let compositeKeys = 0;
  let compositeEntries = 0;
  for (const name of [...STREAMS, 'never']) {
    const rows = m.streams.get(name) ?? [];
    if (m.dense.has(name)) {
      compositeKeys += new Set(rows.map((row) => ev(row).type)).size;
      compositeEntries += rows.length;
    }
    streams[name] = {
      rows,
      count: rows.length,
      // Filled in once `live` is resolved (see below).
      version: 0,
      live:
        rows.length > 0 || (name === KEPT && m.everAdded.has(name))
          ? true
          : m.pendingStreams.has(name)
            ? EITHER
            : false,
      dense: m.dense.has(name),
      byType: Object.fromEntries(
        [...TYPES, 'Z'].map((type) => [type, rows.filter((row) => ev(row).type === type)]),
      ),
    };
  }
  const types: Record<string, unknown> = {};
  for (const type of [...TYPES, 'Z']) {
    const rows = present.filter((row) => ev(row).type === type);
    types[type] = { rows, count: rows.length };
  }
  const tags: Record<string, { live: Live } & Record<string, unknown>> = {};
  const tagIdsUnique: Record<string, boolean> = {};
  const tagEntries: number[] = [];
  for (const [key, pool] of Object.entries(TAG_KEYS)) {
    tagIdsUnique[key] = true;
    tagEntries.push(present.filter((row) => key in ev(row).tags).length);
    for (const value of pool) {
      const rows = present.filter((row) => key in ev(row).tags && Object.is(ev(row).tags[key], value));
      const label = tagLabel(key, value);
      const live = rows.length > 0 ? true : m.pendingTags.has(label) ? EITHER : false;
      tags[label] = { rows, quiet: rows, count: rows.length, live };
    }
  }
  const model = new TimeModel();
  for (const row of present) model.add(row, ev(row).ts);
  return {
    rows: events.length,
    present: present.length,
    hasHoles: present.length < events.length,
    // Settled against the observed live flags (see settle).
    liveStreams: -1,
    aggregateIdsUnique: true,
    tagIdsUnique,
    streams,
    types,
    tags,
    table: events.map((e, row) =>
      e === null || row < m.floor
        ? null
        : {
            aggregate: e.aggregate,
            type: e.type,
            ts: e.ts,
            version: e.version,
            offset: e.offset,
            length: e.length,
          },
    ),
    time: expectedTime(model, windows),
    stats: {
      aggregate: [m.streams.size, present.length],
      type: present.length,
      composite: [compositeKeys, compositeEntries],
      timestamp: present.length,
      tags: tagEntries,
    },
  };
}

interface EventSpec {
  stream: number;
  type: number;
  late: boolean;
  dt: number;
  tags: Tags;
}

const tagsArb: fc.Arbitrary<Tags> = fc.record(
  {
    k: fc.constantFrom(...(TAG_KEYS.k as TagValue[])),
    m: fc.constantFrom(...(TAG_KEYS.m as TagValue[])),
  },
  { requiredKeys: [] },
);

const eventArb: fc.Arbitrary<EventSpec> = fc.record({
  stream: fc.integer({ min: 0, max: STREAMS.length - 1 }),
  type: fc.integer({ min: 0, max: TYPES.length - 1 }),
  late: fc.boolean(),
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 * HOUR })),
  tags: tagsArb,
});

/** Ids a cut emptied are released in slices: all at once, or a few now and the rest later. */
const budgetArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(Infinity) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) },
);

type TableOp =
  | { op: 'add'; event: EventSpec }
  | { op: 'burst'; stream: number; n: number; phased: boolean; seed: number }
  | { op: 'skip'; n: number }
  | { op: 'cut'; cut: Cut; budget: number }
  | { op: 'cutAt'; floor: number }
  | { op: 'release'; budget: number }
  | { op: 'reload' };

const tableOpArb: fc.Arbitrary<TableOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), event: eventArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('burst' as const),
      stream: fc.integer({ min: 0, max: STREAMS.length - 1 }),
      n: fc.integer({ min: 1, max: 130 }),
      phased: fc.boolean(),
      seed: fc.integer(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('skip' as const), n: fc.integer({ min: 1, max: 4 }) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('cut' as const), cut: cutArb, budget: budgetArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), budget: budgetArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const) }) },
);

const restoreTable = (t: EventTable, copy: boolean): EventTable =>
  roundTrip(
    (out) => t.snapshot(out),
    (meta, cursor) => EventTable.restore(meta, cursor),
    copy,
  );

/**
 * Where releaseEmptied may or may not have released an id yet, takes what was observed; then the
 * live stream count must be the streams found live. Returns `expected`, settled.
 */
function settle(
  observed: ReturnType<typeof observeTable>,
  expected: ReturnType<typeof observeTable>,
  m: TableModel,
): ReturnType<typeof observeTable> {
  for (const [name, view] of Object.entries(expected.streams)) {
    if (view.live === EITHER) view.live = observed.streams[name]?.live ?? EITHER;
    view.version = view.live === true ? (m.maxVersion.get(name) ?? 0) : 0;
  }
  for (const [label, view] of Object.entries(expected.tags)) {
    if (view.live === EITHER) view.live = observed.tags[label]?.live ?? EITHER;
  }
  expected.liveStreams = STREAMS.filter((name) => expected.streams[name]?.live === true).length;
  return expected;
}

function runTable(ops: readonly TableOp[], seed: number): void {
  let t = new EventTable();
  const m = new TableModel();
  const random = seededRandom(seed);
  const add = (spec: EventSpec) => {
    const aggregate = STREAMS[spec.stream] as string;
    const type = TYPES[spec.type] as string;
    // Whether the stream's id is held: certain when it has rows (checked as `live`), the table's to
    // say while a release is pending.
    const e = m.add(
      aggregate,
      type,
      spec.late,
      spec.dt,
      spec.tags,
      t.aggregates.idOf(aggregate) !== undefined,
    );
    const row = t.addRow(aggregate, type, e.ts, e.version, e.offset, e.length, spec.tags);
    expect(row).toBe(m.events.length - 1);
  };
  const keep = (id: number) => t.aggregates.idOf(KEPT) === id;
  const held: Held[] = [];
  const release = (budget: number) => {
    let done = true;
    for (const handle of m.handles) done = t.releaseEmptied(handle, keep, budget) && done;
    if (!done) return;
    m.handles.length = 0;
    m.pendingStreams.clear();
    m.pendingTags.clear();
  };
  for (const step of ops) {
    switch (step.op) {
      case 'add':
        add(step.event);
        break;
      case 'burst': {
        // One stream's run of events (it goes dense past PROMOTE_AT), a few from other streams.
        // Phased: its types come in three blocks, so a cut can empty one type and keep the others.
        const r = seededRandom(step.seed);
        for (let i = 0; i < step.n; i++) {
          const tags: Tags = {};
          if (r() < 0.3) tags.k = (TAG_KEYS.k as TagValue[])[randomInt(r, 0, 3)] as TagValue;
          if (r() < 0.2) tags.m = (TAG_KEYS.m as TagValue[])[randomInt(r, 0, 2)] as TagValue;
          add({
            stream: r() < 0.9 ? step.stream : randomInt(r, 0, STREAMS.length - 1),
            type: step.phased ? Math.floor((i * TYPES.length) / step.n) : randomInt(r, 0, TYPES.length - 1),
            late: r() < 0.2,
            dt: randomInt(r, 0, 20 * 60_000),
            tags,
          });
        }
        break;
      }
      case 'skip':
        t.skipTo(t.rows + step.n);
        m.skip(step.n);
        break;
      case 'cut':
      case 'cutAt': {
        const asked = step.op === 'cut' ? nextFloor(m.asked, m.events.length, step.cut) : step.floor;
        // Lists a query holds across the cut (a dense stream's or type's is the index's own list).
        const lookups: (() => SortedRows)[] = [
          ...STREAMS.map((name) => () => t.aggregateRows(name)),
          ...TYPES.map((type) => () => t.typeRows(type)),
        ];
        const taken = lookups.map((lookup) => {
          const list = lookup();
          return { lookup, hold: { list, values: toArray(list), frozen: false } };
        });
        const { removed, emptied } = t.dropBelow(asked);
        expect(removed, `dropBelow(${asked}) returns the rows removed`).toBe(m.cut(asked));
        for (const { lookup, hold } of taken) {
          hold.frozen = lookup() !== hold.list;
          held.push(hold);
        }
        if (held.length > 40) held.splice(0, held.length - 40);
        m.handles.push(emptied);
        release(step.op === 'cut' ? step.budget : Infinity);
        break;
      }
      case 'release':
        release(step.budget);
        break;
      case 'reload':
        // A checkpoint is written once cleanup has released what it emptied.
        release(Infinity);
        t = restoreTable(t, true);
        break;
    }
    const windows = windowsFor(m.all, random);
    const expected = expectedTable(m, windows);
    const restored = restoreTable(t, false);
    const observed = observeTable(t, windows);
    settle(observed, expected, m);
    expect(observed).toEqual(expected);
    const observedRestored = observeTable(restored, windows);
    expect(settle(observedRestored, expectedTable(m, windows), m), 'restored from a checkpoint').toEqual(
      observedRestored,
    );
    // Scans start at firstRow: no event below it, none removed at or above the floor before it. With
    // no holes that is exactly the lowest present row (rows when none is).
    expectHeld(held);
    const lowest = m.present[0] ?? m.events.length;
    for (const table of [t, restored]) {
      expect(table.firstRow, 'firstRow').toBeGreaterThanOrEqual(m.floor);
      expect(table.firstRow, 'firstRow').toBeLessThanOrEqual(lowest);
      if (!m.events.includes(null)) expect(table.firstRow, 'firstRow').toBe(lowest);
    }
  }
}

describe('EventTable.dropBelow', () => {
  test('every lookup equals the oracle over the present rows, after each append, cut and restore', () => {
    fc.assert(
      fc.property(
        fc.array(tableOpArb, { minLength: 1, maxLength: 30, size: 'max' }),
        fc.integer(),
        (ops, seed) => runTable(ops, seed),
      ),
      { numRuns: 150 },
    );
  });

  test('a stream cut to nothing, its id reused by another stream, then written again', () => {
    const ev = (stream: number, type = 0, tags: Tags = {}): TableOp => ({
      op: 'add',
      event: { stream, type, late: false, dt: 60_000, tags },
    });
    const ops: TableOp[] = [
      ...Array.from({ length: PROMOTE_AT + 6 }, (_, i) => ev(0, i % 3, i % 4 === 0 ? { k: 1 } : {})),
      ev(1, 1, { k: '1' }),
      ev(1, 2, { k: true }),
      // Everything goes: s0 (dense, with composite postings) and s1 are forgotten.
      { op: 'cut', cut: { where: 'at', frac: 0, extra: 1 }, budget: Infinity },
      // s2 and s3 come first and take the released ids; s0 and s1 come back afterwards.
      ev(2, 0, { k: 'x' }),
      ev(3, 1, { k: 1 }),
      ev(1, 0),
      ev(0, 2, { k: '1' }),
      ev(0, 1),
      { op: 'reload' },
      ev(2, 1),
      ...Array.from({ length: PROMOTE_AT + 2 }, (_, i) => ev(3, i % 2)),
      { op: 'cut', cut: { where: 'inside', frac: 500, extra: 1 }, budget: 1 },
      ev(0, 0),
      { op: 'cut', cut: { where: 'past', frac: 0, extra: 3 }, budget: 0 },
      ev(4, 2, { m: false }),
      ev(0, 2, { m: 0 }),
    ];
    runTable(ops, 1);
  });

  test('composite postings: a type emptied in a dense stream, and a dense stream emptied, then new ones', () => {
    const ev = (stream: number, type: number): TableOp => ({
      op: 'add',
      event: { stream, type, late: false, dt: 1000, tags: {} },
    });
    const phased = (stream: number, size: number) =>
      Array.from({ length: size }, (_, i) => ev(stream, Math.floor((i * 3) / size)));
    const ops: TableOp[] = [
      // s0 goes dense with types A, B, C in blocks of 22: composite keys for (s0, A), (s0, B), (s0, C).
      ...phased(0, 66),
      // s1 goes dense too: three more composite keys.
      ...phased(1, 66),
      // All of (s0, A) goes; s0 keeps B and C: one composite key emptied below live ones.
      { op: 'cutAt', floor: 22 },
      ev(0, 0),
      ev(0, 0),
      // All of s0 goes (s1 stays): its three composite keys are emptied, below s1's.
      { op: 'cutAt', floor: 66 },
      // The free composite keys must survive a checkpoint.
      { op: 'reload' },
      // s2 goes dense: its composite keys must not land on s1's.
      ...phased(2, 70),
      ev(1, 0),
      ev(0, 1),
      { op: 'reload' },
      ...phased(3, 66),
      { op: 'cutAt', floor: 66 + 60 },
      ev(1, 2),
      ...phased(4, 66),
    ];
    runTable(ops, 2);
  });

  test('a cut past a 65536-row column chunk', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 65_536 - 3, max: 65_536 + 3 }),
        fc.integer({ min: 0, max: 30 }),
        (floor, more) => {
          const t = new EventTable();
          const total = 65_536 + 40;
          for (let row = 0; row < total; row++) {
            t.addRow(
              STREAMS[row % 3] as string,
              TYPES[row % 2] as string,
              T0 + row,
              Math.floor(row / 3) + 1,
              row,
              1,
              {
                k: row % 5,
              },
            );
          }
          const { removed, emptied } = t.dropBelow(floor);
          expect(removed).toBe(floor);
          expect(t.releaseEmptied(emptied, () => false)).toBe(true);
          for (let i = 0; i < more; i++) t.addRow('s4', 'C', T0 + total + i, i + 1, total + i, 1, { k: 'x' });
          const check = (table: EventTable) => {
            expect(table.present).toBe(total + more - floor);
            expect(table.firstRow).toBe(floor);
            for (let row = floor - 4; row < floor + 4; row++) expect(table.isRemoved(row)).toBe(row < floor);
            for (const [i, name] of STREAMS.slice(0, 3).entries()) {
              const rows = toArray(table.aggregateRows(name));
              const first = floor + ((i - (floor % 3) + 3) % 3);
              expect(rows[0]).toBe(first);
              expect(rows.length).toBe(Math.floor((total - 1 - first) / 3) + 1);
              expect(table.streamVersion(name)).toBe(Math.floor((rows.at(-1) as number) / 3) + 1);
            }
            expect(toArray(table.aggregateRows('s4')).length).toBe(more);
            expect(table.typeCount('A') + table.typeCount('B') + table.typeCount('C')).toBe(table.present);
            expect(table.byTime.count(-Infinity, Infinity)).toBe(table.present);
            expect(Array.from(table.byTime.range(T0 + floor - 2, T0 + floor + 2))).toEqual([
              floor,
              floor + 1,
            ]);
            let tagged = 0;
            for (const value of [0, 1, 2, 3, 4, 'x']) tagged += table.tagCount('k', value);
            expect(tagged).toBe(table.present);
          };
          check(t);
          check(restoreTable(t, true));
        },
      ),
      { numRuns: 4 },
    );
  });
});

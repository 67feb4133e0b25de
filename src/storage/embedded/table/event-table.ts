import { TammaError } from '../../../errors.js';
import type { Tags, TagValue } from '../../../events/types.js';
import { PostingIndex, type PostingSnapshot } from './posting-index.js';
import { ArrayRows, NO_ROWS, type SortedRows } from './sorted-rows.js';
import { TimeIndex, type TimeSnapshot } from './time-index.js';
import type { ArrayCursor, RawArray } from './snapshot.js';
import type { IndexStats } from '../../store-stats.js';
import { CHUNK_SHIFT, float64Column, uint32Column } from './chunked-column.js';
import { Dictionary } from './dictionary.js';
import { IdIndex, type IdIndexSnapshot } from './id-index.js';
import { TableCut } from './table-cut.js';
import { TagValues } from './tag-values.js';

/** Ids a cut left with no event (EventTable.dropBelow), to release for reuse. */
export interface EmptiedIds {
  aggregates: number[];
  tagValues: { index: TagIndex; ids: number[] }[];
}

/** Composite keys pack (aggregate id, type id) into one exact double: 2^32 aggregates × 2^21 types. */
const TYPE_SPACE = 2 ** 21;

export interface TagIndex {
  readonly values: TagValues;
  readonly postings: PostingIndex;
}

/**
 * The embedded engine's heart: one row per event (row = sequence - 1), held as fixed-width columns
 * with strings interned in dictionaries, plus the built-in indexes over those columns. The full
 * record (payload, metadata, tags, id) stays in the log; `recordOffset`/`recordLength` locate it.
 */
export class EventTable {
  /** One past the highest row: the last sequence. Rows below it may be absent (removed by cleanup). */
  rows = 0;
  /** Rows that hold an event: `rows` less the ones cleanup removed. */
  present = 0;
  /** The lowest row that may hold an event: scans start here (cleanup removes old rows first). */
  firstRow = 0;
  /** Bumped each time cleanup swaps in compacted contents: caches keyed by row or id are stale. */
  generation = 0;
  /**
   * While set, addRow records each row's tags here: cleanup rebuilds the table in slices, and rows
   * appended meanwhile are copied at the end, tags included (postings cannot say a row's tags).
   */
  tagJournal: { row: number; tags: Tags }[] | undefined;
  readonly timestamp = float64Column();
  readonly typeId = uint32Column();
  readonly aggregateId = uint32Column();
  readonly version = uint32Column();
  readonly recordOffset = float64Column();
  readonly recordLength = uint32Column();

  readonly aggregates = new Dictionary();
  readonly types: Dictionary;
  /**
   * By aggregate id: the highest version the stream has had, including events cleanup has removed
   * since (a stream's newest events may expire before its older ones: a type with a shorter maxAge).
   * So versions never go back while the stream has an id; once cleanup removed every event of a
   * stream and released its id, the stream is forgotten and starts again at version 1.
   */
  readonly streamVersions = uint32Column();

  readonly byAggregate = new PostingIndex();
  readonly byType = new PostingIndex();
  /**
   * Only aggregates past PostingIndex's promotion size get composite postings: a smaller stream is
   * answered by walking its own ≤ 64 rows and checking the type column, which is as fast and costs
   * no memory for the millions of small streams.
   */
  readonly byAggregateType = new PostingIndex();
  private readonly compositeKeys = new Map<number, number>();
  /** Composite key ids cleanup emptied, reused before new ones. */
  private compositeFree: number[] = [];
  private compositeLookups = 0;
  private compositeHits = 0;
  readonly byTime = new TimeIndex((row) => this.timestamp.get(row));
  readonly tags = new Map<string, TagIndex>();
  /**
   * Event id → row, so an id is stored once. Every path that adds a row from a record (append,
   * replay, restore) adds its id; compaction keeps row numbers, so its copy shares this one.
   */
  ids: IdIndex;

  /**
   * `types` may be shared with the table being compacted, so type ids stay the same; so is `ids`,
   * which compaction does not rebuild.
   */
  constructor(types = new Dictionary(), ids = new IdIndex()) {
    this.types = types;
    this.ids = ids;
    this.byAggregate.onPromote = (aggregate, rows) => {
      for (let i = 0; i < rows.length; i++) {
        const row = rows.at(i);
        this.addComposite(aggregate, this.typeId.get(row), row);
      }
    };
  }

  /** Adds the next row; every index learns of it. Rows must come in sequence order. */
  addRow(
    aggregateId: string,
    type: string,
    timestamp: number,
    version: number,
    recordOffset: number,
    recordLength: number,
    tags: Tags,
  ): number {
    const row = this.addRowIds(
      this.aggregates.intern(aggregateId),
      this.internType(type),
      timestamp,
      version,
      recordOffset,
      recordLength,
    );
    for (const key in tags) this.addTag(key, tags[key] as TagValue, row);
    this.tagJournal?.push({ row, tags });
    return row;
  }

  /**
   * Whether the row holds no event: below firstRow (cut by cleanup, whose last step frees those
   * chunks), removed by compaction, or a sequence the log skips.
   */
  isRemoved(row: number): boolean {
    return row < this.firstRow || this.recordLength.get(row) === 0;
  }

  /** Whether some rows below `rows` hold no event, so readers must check isRemoved. */
  get hasHoles(): boolean {
    return this.present < this.rows;
  }

  /** Moves `rows` up to `rows` without adding events: the log skips those sequences (see frame.ts holes). */
  skipTo(rows: number): void {
    if (rows <= this.rows) return;
    if (this.present === 0) this.firstRow = rows;
    this.rows = rows;
  }

  /**
   * Takes over `compacted`'s contents (cleanup built it from the rows that stay, at the same row
   * numbers). Every component holds this object, so the swap reaches them all in one step.
   */
  adopt(compacted: EventTable): void {
    const generation = this.generation + 1;
    Object.assign(this, compacted);
    this.generation = generation;
    this.tagJournal = undefined;
    this.pruneIds();
  }

  /** Lets the id index forget removed rows once they fill most of it (IdIndex.prune). */
  pruneIds(): void {
    this.ids.prune(this.firstRow, this.rows, this.present, (row) => !this.isRemoved(row));
  }

  /**
   * Removes every row below `floor` in place, in one call (see TableCut, which cleanup runs in
   * steps). Returns how many, and the ids of streams and tag values left with no event, for
   * releaseEmptied. The caller re-counts what holds aggregate ids (tombstones) and cuts the user indexes.
   */
  dropBelow(floor: number): { removed: number; emptied: EmptiedIds } {
    const cut = new TableCut(this, floor);
    cut.step(Infinity);
    return { removed: cut.removed, emptied: cut.emptied };
  }

  /** The last step of a cut: marks the rows of the chunk the floor falls in removed, frees the chunks below. */
  freeBelow(from: number, floor: number): void {
    for (let row = Math.max(from, (floor >>> CHUNK_SHIFT) << CHUNK_SHIFT); row < floor; row++)
      this.recordLength.set(row, 0);
    for (const name of COLUMN_NAMES) this[name].dropBelow(floor);
    this.ids.dropBelow(floor);
    this.pruneIds();
  }

  /** A cut emptied these composite keys: forget them, and reuse their ids. */
  forgetComposites(keys: readonly number[]): void {
    const dead = new Set(keys);
    for (const [composite, key] of this.compositeKeys)
      if (dead.has(key)) this.compositeKeys.delete(composite);
    this.compositeFree.push(...keys);
  }

  /**
   * Releases up to `budget` of the ids a cut emptied (all by default) for reuse, skipping any that
   * got an event again meanwhile and the streams `keep` says to hold (deleted ones: their ids must
   * not pass to a new stream). Returns true once none is left.
   */
  releaseEmptied(emptied: EmptiedIds, keep: (aggregate: number) => boolean, budget = Infinity): boolean {
    let left = budget;
    for (; left > 0 && emptied.aggregates.length > 0; left--) {
      const id = emptied.aggregates.pop() as number;
      if (this.byAggregate.count(id) === 0 && !keep(id)) {
        this.aggregates.release(id);
        this.streamVersions.set(id, 0);
      }
    }
    while (left > 0 && emptied.tagValues.length > 0) {
      const { index, ids } = emptied.tagValues[
        emptied.tagValues.length - 1
      ] as EmptiedIds['tagValues'][number];
      for (; left > 0 && ids.length > 0; left--) {
        const id = ids.pop() as number;
        if (index.postings.count(id) === 0) index.values.release(id);
      }
      if (ids.length === 0) emptied.tagValues.pop();
    }
    return emptied.aggregates.length === 0 && emptied.tagValues.length === 0;
  }

  /**
   * addRow without the strings, for replaying the log: `aggregate` and `typeKey` are ids from
   * `aggregates.intern` and `internType`. Tags are the caller's to add, for the row returned, with
   * `tagIndex(key).postings.add(tagIndex(key).values.intern(value), row)` (what addRow does).
   * `row` may skip ahead of `rows` (compaction leaves removed rows out); never back.
   */
  addRowIds(
    aggregate: number,
    typeKey: number,
    timestamp: number,
    version: number,
    recordOffset: number,
    recordLength: number,
    row = this.rows,
  ): number {
    if (row < this.rows) throw new RangeError(`row ${row} is below the table's ${this.rows} rows`);
    if (this.present === 0) this.firstRow = row;
    this.present++;
    this.timestamp.set(row, timestamp);
    this.typeId.set(row, typeKey);
    this.aggregateId.set(row, aggregate);
    this.version.set(row, version);
    this.keepStreamVersion(aggregate, version);
    this.recordOffset.set(row, recordOffset);
    this.recordLength.set(row, recordLength);
    this.indexRow(row, aggregate, typeKey, timestamp);
    this.rows = row + 1;
    return row;
  }

  private indexRow(row: number, aggregate: number, typeKey: number, timestamp: number): void {
    const wasDense = this.byAggregate.isDense(aggregate);
    this.byAggregate.add(aggregate, row);
    if (wasDense) this.addComposite(aggregate, typeKey, row);
    this.byType.add(typeKey, row);
    this.byTime.add(row, timestamp);
  }

  /** The type's id, interned; throws past the composite keys' type space. */
  internType(type: string): number {
    const id = this.types.intern(type);
    if (id >= TYPE_SPACE)
      throw new TammaError('TOO_MANY_TYPES', `more than ${TYPE_SPACE} distinct event types`);
    return id;
  }

  private addComposite(aggregate: number, typeKey: number, row: number): void {
    const composite = aggregate * TYPE_SPACE + typeKey;
    let key = this.compositeKeys.get(composite);
    if (key === undefined) {
      key = this.compositeFree.pop() ?? this.compositeKeys.size;
      this.compositeKeys.set(composite, key);
    }
    this.byAggregateType.add(key, row);
  }

  private addTag(key: string, value: TagValue, row: number): void {
    const index = this.tagIndex(key);
    index.postings.add(index.values.intern(value), row);
  }

  /** The tag key's values and postings, created empty on first use. */
  tagIndex(key: string): TagIndex {
    let index = this.tags.get(key);
    if (index === undefined) {
      index = { values: new TagValues(), postings: new PostingIndex() };
      this.tags.set(key, index);
    }
    return index;
  }

  /**
   * The stream's current version: the highest it has had (see streamVersions). Not its event count,
   * since cleanup may have removed events; a stream whose every event was removed is forgotten
   * (version 0) once its id is released.
   */
  streamVersion(aggregateId: string): number {
    const id = this.aggregates.idOf(aggregateId);
    return id === undefined ? 0 : this.streamVersions.get(id);
  }

  /** Raises a stream's version to at least `version` (carried over from a table this one replaces). */
  keepStreamVersion(aggregate: number, version: number): void {
    if (version > this.streamVersions.get(aggregate)) this.streamVersions.set(aggregate, version);
  }

  /** Raises every stream's version to what it is in `other` (a table this one replaces). */
  keepStreamVersionsOf(other: EventTable): void {
    other.aggregates.toJSON().forEach((name, id) => {
      const version = other.streamVersions.get(id);
      const mine = name === null || version === 0 ? undefined : this.aggregates.idOf(name);
      if (mine !== undefined) this.keepStreamVersion(mine, version);
    });
  }

  aggregateRows(aggregateId: string): SortedRows {
    return this.byAggregate.lookup(this.aggregates.idOf(aggregateId) ?? -1);
  }

  typeRows(type: string): SortedRows {
    return this.byType.lookup(this.types.idOf(type) ?? -1);
  }

  aggregateTypeRows(aggregateId: string, type: string): SortedRows {
    this.compositeLookups++;
    const aggregate = this.aggregates.idOf(aggregateId);
    const typeKey = this.types.idOf(type);
    let rows: SortedRows = NO_ROWS;
    if (aggregate !== undefined && typeKey !== undefined) {
      if (this.byAggregate.isDense(aggregate)) {
        const key = this.compositeKeys.get(aggregate * TYPE_SPACE + typeKey);
        rows = key === undefined ? NO_ROWS : this.byAggregateType.rows(key);
      } else {
        const stream = this.byAggregate.rows(aggregate);
        const matching: number[] = [];
        for (let i = 0; i < stream.length; i++) {
          const row = stream.at(i);
          if (this.typeId.get(row) === typeKey) matching.push(row);
        }
        rows = new ArrayRows(Uint32Array.from(matching));
      }
    }
    if (rows.length > 0) this.compositeHits++;
    return rows;
  }

  tagRows(key: string, value: TagValue): SortedRows {
    const index = this.tags.get(key);
    if (index === undefined) return NO_ROWS;
    return index.postings.lookup(index.values.idOf(value) ?? -1);
  }

  /** The rows with this tag value, without counting a lookup: for checking candidates, not finding them. */
  tagRowsQuiet(key: string, value: TagValue): SortedRows {
    const index = this.tags.get(key);
    const id = index?.values.idOf(value);
    return index === undefined || id === undefined ? NO_ROWS : index.postings.rows(id);
  }

  /** Exact number of rows with this tag value, without counting a lookup. */
  tagCount(key: string, value: TagValue): number {
    const index = this.tags.get(key);
    const id = index?.values.idOf(value);
    return index === undefined || id === undefined ? 0 : index.postings.count(id);
  }

  aggregateCount(aggregateId: string): number {
    const id = this.aggregates.idOf(aggregateId);
    return id === undefined ? 0 : this.byAggregate.count(id);
  }

  typeCount(type: string): number {
    const id = this.types.idOf(type);
    return id === undefined ? 0 : this.byType.count(id);
  }

  get columnBytes(): number {
    return (
      this.timestamp.bytes +
      this.typeId.bytes +
      this.aggregateId.bytes +
      this.version.bytes +
      this.recordOffset.bytes +
      this.recordLength.bytes
    );
  }

  get dictionaryBytes(): number {
    let total = this.aggregates.bytes + this.types.bytes + this.compositeKeys.size * 40;
    for (const index of this.tags.values()) total += index.values.bytes;
    return total;
  }

  /** Per-index statistics; the sequence index is used by the store's read(), which counts its lookups. */
  indexStats(sequenceLookups = 0, sequenceHits = 0): Record<string, IndexStats> {
    const stats = (
      keys: number,
      entries: number,
      bytes: number,
      lookups: number,
      hits: number,
    ): IndexStats => ({
      keys,
      entries,
      bytes,
      lookups,
      hits,
      hitRate: lookups === 0 ? 0 : hits / lookups,
    });
    const fromPostings = (p: PostingIndex) => stats(p.keys, p.entries, p.bytes, p.lookups, p.hits);
    const result: Record<string, IndexStats> = {
      sequence: stats(
        this.present,
        this.present,
        this.recordOffset.bytes + this.recordLength.bytes,
        sequenceLookups,
        sequenceHits,
      ),
      aggregate: fromPostings(this.byAggregate),
      type: fromPostings(this.byType),
      'aggregate+type': stats(
        this.compositeKeys.size,
        this.byAggregateType.entries,
        this.byAggregateType.bytes,
        this.compositeLookups,
        this.compositeHits,
      ),
      timestamp: stats(
        this.byTime.hours.size,
        this.byTime.entries,
        this.byTime.bytes,
        this.byTime.lookups,
        this.byTime.hits,
      ),
    };
    for (const [key, index] of this.tags) result[`tags.${key}`] = fromPostings(index.postings);
    result.id = stats(this.present, this.ids.entries, this.ids.bytes, 0, 0);
    return result;
  }

  get indexBytes(): number {
    let total = this.byAggregate.bytes + this.byType.bytes + this.byAggregateType.bytes + this.byTime.bytes;
    for (const index of this.tags.values()) total += index.postings.bytes;
    return total + this.ids.bytes;
  }

  /**
   * The snapshot's arrays that stay as they are while appends go on: the chunks of per-row columns
   * and links wholly below the row count, the full blocks of row lists, the time index's runs.
   * Everything else (per-key counts, the chunk or block rows are appended to, dictionaries) changes
   * in place, so a checkpoint written in the background copies it.
   */
  appendStableArrays(): Set<RawArray> {
    const stable = new Set<RawArray>();
    for (const name of COLUMN_NAMES) this[name].fullChunksBelow(this.rows, stable);
    for (const postings of [this.byAggregate, this.byType, this.byAggregateType])
      postings.appendStableArrays(this.rows, stable);
    for (const index of this.tags.values()) index.postings.appendStableArrays(this.rows, stable);
    this.byTime.appendStableArrays(stable);
    this.ids.appendStableArrays(this.rows, stable);
    return stable;
  }

  /** Pushes every column and index array onto `out` (no copy); returns the metadata `restore` needs. */
  snapshot(out: RawArray[]): TableSnapshot {
    const columns = {} as TableSnapshot['columns'];
    for (const name of COLUMN_NAMES) columns[name] = this[name].snapshot(out);
    out.push(Float64Array.from(this.compositeKeys.keys()), Uint32Array.from(this.compositeKeys.values()));
    return {
      rows: this.rows,
      present: this.present,
      firstRow: this.firstRow,
      aggregates: this.aggregates.toJSON(),
      types: this.types.toJSON(),
      columns,
      streamVersions: this.streamVersions.snapshot(out),
      byAggregate: this.byAggregate.snapshot(out),
      byType: this.byType.snapshot(out),
      byAggregateType: this.byAggregateType.snapshot(out),
      compositeLookups: this.compositeLookups,
      compositeHits: this.compositeHits,
      byTime: this.byTime.snapshot(out),
      tags: [...this.tags].map(([key, index]) => ({
        key,
        values: index.values.toJSON(),
        postings: index.postings.snapshot(out),
      })),
      ids: this.ids.snapshot(out),
    };
  }

  static restore(meta: TableSnapshot, arrays: ArrayCursor): EventTable {
    const table = new EventTable();
    table.rows = meta.rows;
    table.present = meta.present ?? meta.rows;
    table.firstRow = meta.firstRow ?? 0;
    table.aggregates.load(meta.aggregates);
    table.types.load(meta.types);
    for (const name of COLUMN_NAMES) table[name].restore(meta.columns[name], arrays);
    const keys = arrays.next(Float64Array);
    const values = arrays.next(Uint32Array);
    keys.forEach((key, i) => table.compositeKeys.set(key, values[i] as number));
    // Ids below the highest that no composite holds were emptied by cleanup: free for reuse.
    const held = new Set(values);
    const next = values.reduce((top, id) => Math.max(top, id + 1), 0);
    for (let id = 0; id < next; id++) if (!held.has(id)) table.compositeFree.push(id);
    if (meta.streamVersions !== undefined) table.streamVersions.restore(meta.streamVersions, arrays);
    table.byAggregate.restore(meta.byAggregate, arrays);
    if (meta.streamVersions === undefined) {
      // A checkpoint from before streamVersions: each stream's last event's version.
      for (let id = 0; id < table.aggregates.size; id++) {
        const count = table.byAggregate.count(id);
        if (count > 0) table.streamVersions.set(id, table.version.get(table.byAggregate.last(id)));
      }
    }
    table.byType.restore(meta.byType, arrays);
    table.byAggregateType.restore(meta.byAggregateType, arrays);
    table.compositeLookups = meta.compositeLookups;
    table.compositeHits = meta.compositeHits;
    table.byTime.restore(meta.byTime, arrays);
    for (const tag of meta.tags) {
      const index: TagIndex = { values: TagValues.from(tag.values), postings: new PostingIndex() };
      index.postings.restore(tag.postings, arrays);
      table.tags.set(tag.key, index);
    }
    // A checkpoint from before the id index cannot say which rows hold which ids: it is not used,
    // and the store is rebuilt from the log (checkpoint.ts readCheckpoint).
    if (meta.ids === undefined) throw new Error('the checkpoint has no id index');
    table.ids = IdIndex.restore(meta.ids, arrays);
    return table;
  }
}

const COLUMN_NAMES = [
  'timestamp',
  'typeId',
  'aggregateId',
  'version',
  'recordOffset',
  'recordLength',
] as const;

export interface TableSnapshot {
  rows: number;
  /** Absent in checkpoints written before cleanup existed: then every row is present. */
  present?: number;
  firstRow?: number;
  /** null: an id cleanup released. */
  aggregates: readonly (string | null)[];
  types: readonly (string | null)[];
  columns: Record<(typeof COLUMN_NAMES)[number], number[]>;
  /** Absent in checkpoints written before it existed: then derived from each stream's last event. */
  streamVersions?: number[];
  byAggregate: PostingSnapshot;
  byType: PostingSnapshot;
  byAggregateType: PostingSnapshot;
  compositeLookups: number;
  compositeHits: number;
  byTime: TimeSnapshot;
  tags: { key: string; values: (TagValue | null)[]; postings: PostingSnapshot }[];
  /** Absent in checkpoints written before the id index: such a checkpoint is not used. */
  ids?: IdIndexSnapshot;
}

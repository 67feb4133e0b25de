import { TammaError } from '../../../errors.js';
import type { Tags, TagValue } from '../../../events/types.js';
import type { IndexStats } from '../../store-stats.js';
import { float64Column, uint32Column } from './chunked-column.js';
import { Dictionary } from './dictionary.js';
import type { FieldColumn } from './field-column.js';
import { FieldColumns } from './field-columns.js';
import { IdIndex } from './id-index.js';
import { PostingIndex } from './posting-index.js';
import type { ArrayCursor, RawArray } from './snapshot.js';
import { ArrayRows, NO_ROWS, type SortedRows } from './sorted-rows.js';
import { releaseEmptied, TableCut } from './table-cut.js';
import { appendStableArrays, restoreTable, snapshotTable, type TableSnapshot } from './table-snapshot.js';
import { columnBytesOf, dictionaryBytesOf, indexBytesOf, indexStatsOf } from './table-stats.js';
import { TagValues } from './tag-values.js';
import { TimeIndex } from './time-index.js';

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
 *
 * Adding rows and looking them up stay here, on the hot paths; the cut (table-cut.ts), the
 * checkpoint's snapshot (table-snapshot.ts) and the byte and index accounting (table-stats.ts) are
 * modules of their own, and the methods of the same names here call them.
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
  /**
   * Composite (aggregate id, type id) → key in byAggregateType. This and the three below are the
   * table's own, written here only; they are not private so that table-snapshot.ts and
   * table-stats.ts can read (and a restore set) them.
   */
  readonly compositeKeys = new Map<number, number>();
  /** Composite key ids cleanup emptied, reused before new ones. */
  compositeFree: number[] = [];
  compositeLookups = 0;
  compositeHits = 0;
  readonly byTime = new TimeIndex((row) => this.timestamp.get(row));
  readonly tags = new Map<string, TagIndex>();
  /**
   * Event id → row, so an id is stored once. Every path that adds a row from a record (append,
   * replay, restore) adds its id; compaction keeps row numbers, so its copy shares this one.
   */
  ids: IdIndex;
  /**
   * Payload and tag fields extracted into typed columns (field-columns.ts), for aggregates and group
   * keys that would otherwise decode every record. Kept across adopt (rows keep their numbers).
   */
  fieldColumns = new FieldColumns();

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
    const fieldColumns = this.fieldColumns;
    Object.assign(this, compacted);
    this.generation = generation;
    this.fieldColumns = fieldColumns;
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
    return releaseEmptied(this, emptied, keep, budget);
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
    return columnBytesOf(this);
  }

  get dictionaryBytes(): number {
    return dictionaryBytesOf(this);
  }

  get indexBytes(): number {
    return indexBytesOf(this);
  }

  /**
   * The column of `field` (`payload.<path>` or `tags.<key>`) over every row: extracted from the log
   * on first use (each record read once), brought up to the table's rows on each call. A row holding
   * no event reads as missing. Throws a ValidationError (UNKNOWN_FIELD) for any other field.
   */
  fieldColumn(field: string): FieldColumn {
    return this.fieldColumns.column(field, this);
  }

  /** Whether `field` has a column already (extracted before, declared, or read from the checkpoint). */
  hasFieldColumn(field: string): boolean {
    return this.fieldColumns.has(field);
  }

  /** Per-index statistics; the sequence index is used by the store's read(), which counts its lookups. */
  indexStats(sequenceLookups = 0, sequenceHits = 0): Record<string, IndexStats> {
    return indexStatsOf(this, sequenceLookups, sequenceHits);
  }

  /** The snapshot's arrays that stay as they are while appends go on (see table-snapshot.ts). */
  appendStableArrays(): Set<RawArray> {
    return appendStableArrays(this);
  }

  /** Pushes every column and index array onto `out` (no copy); returns the metadata `restore` needs. */
  snapshot(out: RawArray[]): TableSnapshot {
    return snapshotTable(this, out);
  }

  static restore(meta: TableSnapshot, arrays: ArrayCursor): EventTable {
    const table = new EventTable();
    restoreTable(table, meta, arrays);
    return table;
  }
}

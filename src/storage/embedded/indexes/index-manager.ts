import type { AutoIndexAction, AutoIndexSettings } from '../../../indexes/auto-index.js';
import { IndexNotFoundError, StoreClosedError, TammaError, ValidationError } from '../../../errors.js';
import type { Clock } from '../../../events/clock.js';
import type { Indexes } from '../../../indexes/indexes.js';
import { resolveIndexDefinition, type IndexDefinition } from '../../../indexes/index-definition.js';
import type {
  CreateIndexOptions,
  FieldAnalysis,
  IndexAnalysis,
  IndexInfo,
  IndexOptimizationResult,
  IndexRecommendation,
  IndexSize,
  IndexUsage,
} from '../../../indexes/index-types.js';
import { describe } from '../../../support/describe.js';
import { WriteGate } from '../../../support/write-gate.js';
import type { EventView } from '../exec/event-view.js';
import type { EventReader } from '../table/event-reader.js';
import type { EventTable } from '../table/event-table.js';
import { analyzeUserIndex } from './analyze-index.js';
import { AutoIndexer } from './auto-indexer.js';
import type { IndexAdvisor } from './index-advisor.js';
import { buildOptions, indexRowsUpTo, SLICE_ROWS } from './index-build.js';
import { catalogOf, openedIndex, readIndexCatalog, writeIndexCatalog } from './index-catalog.js';
import { describeBuiltIns, describeUserIndex, indexUsage } from './index-info.js';
import type { Statistics } from './statistics.js';
import { checkUniqueKeys } from './unique-keys.js';
import { UserIndex, type RowKey } from './user-index.js';
import { turn } from '../../../support/turn.js';

/** Keys an append's events give each caught-up index, computed before the batch is written. */
export type PreparedKeys = { index: UserIndex; keys: RowKey[] }[];

interface Build {
  index: UserIndex;
  dropped: boolean;
}

/**
 * `store.indexes`: user-defined indexes (the seed's IIndexManager). Definitions persist in
 * `indexes.json`, contents in the checkpoint; an index is built online, slice by slice, while
 * appends and queries go on, and is maintained by every append once it has caught up.
 *
 * This class holds the indexes and their states; the build (index-build.ts), auto mode
 * (auto-indexer.ts), the unique-key check (unique-keys.ts), `indexes.json` (index-catalog.ts) and
 * what listIndexes says (index-info.ts) are modules of their own.
 */
export class IndexManager implements Indexes {
  private readonly ready = new Map<string, UserIndex>();
  private readonly builds = new Map<string, Build>();
  private readonly builtInUse = new Map<string, { uses: number; lastUsed: number }>();
  /** Bumped whenever the set of usable indexes changes: cached plans made before are stale. */
  generation = 0;
  private closed = false;
  private advisor: IndexAdvisor | undefined;
  private readonly autoIndex = new AutoIndexer({
    recommend: () => this.requireAdvisor().recommend(),
    usedBytes: () => this.usable().reduce((sum, index) => sum + index.bytes, 0),
    now: () => this.clock.now(),
    createIndex: (definition) => this.createIndex(definition),
    closed: () => this.closed,
  });
  private usageChanged = false;
  /** Set for a read-only store: index writes are refused and usage counts stay in memory. */
  private readOnly: (() => Error) | undefined;

  constructor(
    // Not readonly: a restore into the middle of the store replaces the table (see rebind).
    private table: EventTable,
    private reader: EventReader,
    private readonly clock: Clock,
    private readonly dir: string | undefined,
    private statistics: Statistics,
    /** The store's: index writes wait while it is held (a restore rebuilding the table). */
    private readonly gate = new WriteGate(),
  ) {}

  /**
   * Checks the manager is open, once the store's writes are no longer held: at once when they are
   * not (undefined; no turn of the event loop, so a build is listed as soon as createIndex is called).
   */
  private writable(): Promise<void> | undefined {
    if (this.readOnly !== undefined) throw this.readOnly();
    const passage = this.gate.passage();
    if (passage !== undefined) return passage.then(() => this.assertOpen());
    this.assertOpen();
    return undefined;
  }

  /** A read-only store's: createIndex, dropIndex, rebuildIndex, optimizeIndexes and auto mode throw `refusal()`. */
  refuseWrites(refusal: () => Error): void {
    this.readOnly = refusal;
  }

  /**
   * Moves every index to a table a restore rebuilt: each is built whole over it, keeping its
   * definition and usage counts. Cached plans made before are stale.
   */
  rebind(table: EventTable, reader: EventReader, statistics: Statistics): void {
    this.table = table;
    this.reader = reader;
    this.statistics = statistics;
    for (const old of [...this.ready.values()]) {
      const index = old.emptyCopy();
      this.indexUpTo(index, table.rows);
      this.ready.set(index.name, index);
    }
    this.generation++;
  }

  /**
   * Restores the indexes `indexes.json` defines: from the checkpoint's snapshot when it matches the
   * definition, then catching up with the log replayed after it (or built whole without one).
   */
  openFrom(snapshots: readonly UserIndex[]): void {
    if (this.dir === undefined) return;
    const catalog = readIndexCatalog(this.dir);
    for (const [name, use] of Object.entries(catalog.builtInUse)) {
      if (use.lastUsed !== null) this.builtInUse.set(name, { uses: use.uses, lastUsed: use.lastUsed });
    }
    for (const entry of catalog.indexes) {
      const index = openedIndex(entry, snapshots, this.table.rows);
      this.indexUpTo(index, this.table.rows);
      this.ready.set(index.name, index);
    }
  }

  /** Ready indexes: the ones the planner may use. */
  usable(): UserIndex[] {
    return [...this.ready.values()];
  }

  /**
   * Creates an index and builds it online over the existing events; resolves once it is ready and
   * its definition is durable. Appends and queries go on during the build.
   *
   * @example
   * await store.indexes.createIndex(
   *   { name: 'by_tenant_total', fields: ['tags.tenant', 'payload.total'] },
   *   { onProgress: ({ indexed, total }) => console.log(`${indexed}/${total}`) },
   * );
   */
  async createIndex(definition: IndexDefinition, options?: CreateIndexOptions): Promise<IndexInfo> {
    const waiting = this.writable();
    if (waiting !== undefined) await waiting;
    const resolved = resolveIndexDefinition(definition);
    const build = buildOptions(options);
    if (this.ready.has(resolved.name) || this.builds.has(resolved.name)) {
      throw new TammaError(
        'INDEX_EXISTS',
        `an index named ${JSON.stringify(resolved.name)} already exists; drop it first or pick another name`,
      );
    }
    const index = new UserIndex(resolved, this.clock.now());
    await this.buildOnline(index, build, () => {
      this.ready.set(index.name, index);
      this.persist();
    });
    return describeUserIndex(index, 'ready');
  }

  /** Drops an index (a build in progress stops and its createIndex rejects). */
  async dropIndex(name: string): Promise<void> {
    const waiting = this.writable();
    if (waiting !== undefined) await waiting;
    const build = this.builds.get(name);
    if (build !== undefined) {
      build.dropped = true;
      this.builds.delete(name);
    }
    if (!this.ready.delete(name) && build === undefined) throw this.notFound(name);
    this.persist();
  }

  /** Rebuilds an index from the events; the old one keeps serving queries until the new one is ready. */
  async rebuildIndex(name: string, options?: CreateIndexOptions): Promise<IndexInfo> {
    const waiting = this.writable();
    if (waiting !== undefined) await waiting;
    const build = buildOptions(options);
    const old = this.ready.get(name);
    if (old === undefined) throw this.notFound(name);
    const index = old.emptyCopy();
    await this.buildOnline(index, build, () => {
      if (this.ready.get(name) !== old)
        throw new TammaError('INDEX_DROPPED', `index ${name} was dropped while rebuilding`);
      this.ready.set(name, index);
    });
    return describeUserIndex(index, 'ready');
  }

  async listIndexes(): Promise<IndexInfo[]> {
    this.assertOpen();
    return [
      ...describeBuiltIns(this.table),
      ...[...this.ready.values()].map((index) => describeUserIndex(index, 'ready')),
      ...[...this.builds.values()].map((build) => describeUserIndex(build.index, 'building')),
    ];
  }

  async analyzeIndex(name: string): Promise<IndexAnalysis> {
    this.assertOpen();
    const index = this.ready.get(name);
    if (index === undefined) throw this.notFound(name);
    return analyzeUserIndex(index, this.table.rows);
  }

  /**
   * What the planner knows of a field (any field, indexed or not): share of events that have it,
   * distinct values and a histogram, from an even sample of events (all of them in a small store).
   */
  async analyzeField(field: string): Promise<FieldAnalysis> {
    return this.statistics.analyzeField(field);
  }

  async getIndexUsage(): Promise<IndexUsage[]> {
    this.assertOpen();
    return indexUsage(this.table, this.builtInUse, this.ready.values());
  }

  async getIndexSize(): Promise<{ totalBytes: number; indexes: IndexSize[] }> {
    this.assertOpen();
    const indexes = (await this.listIndexes()).map(({ name, entries, bytes }) => ({ name, entries, bytes }));
    return { totalBytes: indexes.reduce((sum, index) => sum + index.bytes, 0), indexes };
  }

  /**
   * Indexes that would pay for the queries this store has run: per query shape (fingerprint) the
   * calls, time, and rows examined vs returned; a candidate is proposed only when the planner
   * expects it to cut the cost of those queries by half or more, and never when an existing index
   * already leads with its fields.
   */
  async recommendIndexes(): Promise<IndexRecommendation[]> {
    return this.requireAdvisor().recommend();
  }

  /** User-defined indexes no executed query has used, and ones another index makes redundant. */
  async optimizeIndexes(): Promise<IndexOptimizationResult> {
    const waiting = this.writable();
    if (waiting !== undefined) await waiting;
    return this.requireAdvisor().optimize();
  }

  /**
   * Opt-in auto mode: every `checkEvery` executed queries, the advisor's best recommendation (seen in
   * at least `minCalls` queries) is built in the background, if all user-defined indexes would
   * still fit in `memoryBudget` bytes. Pass false to turn it off. `autoActions` says what it did.
   */
  setAutoIndex(settings: AutoIndexSettings | false): void {
    if (this.readOnly !== undefined && settings !== false) throw this.readOnly();
    this.autoIndex.configure(settings);
  }

  /** What auto mode did, newest last: indexes created, or recommendations it declined and why. */
  readonly autoActions: AutoIndexAction[] = this.autoIndex.actions;

  /** Resolves once no auto-mode build is running (for tests and orderly shutdown). */
  async whenIdle(): Promise<void> {
    await this.autoIndex.whenIdle();
  }

  attachAdvisor(advisor: IndexAdvisor): void {
    this.advisor = advisor;
  }

  /** Called after every executed query. */
  afterQuery(): void {
    this.autoIndex.afterQuery();
  }

  private requireAdvisor(): IndexAdvisor {
    if (this.advisor === undefined) throw new Error('the index advisor is not attached');
    return this.advisor;
  }

  /** The planner chose this index (or built-in access path) for a query. */
  recordUse(name: string): void {
    this.usageChanged = true;
    const now = this.clock.now();
    const index = this.ready.get(name);
    if (index !== undefined) {
      index.recordUse(now);
      return;
    }
    const use = this.builtInUse.get(name) ?? { uses: 0, lastUsed: now };
    use.uses++;
    use.lastUsed = now;
    this.builtInUse.set(name, use);
  }

  /** Whether appends have index keys to compute: false keeps the append path free of this work. */
  get active(): boolean {
    return this.ready.size > 0 || this.builds.size > 0;
  }

  /**
   * The keys a batch's events give each index that is caught up, checked against unique indexes:
   * throws UniqueViolationError before the batch is written, so a rejected batch writes nothing.
   */
  prepareBatch(views: readonly EventView[]): PreparedKeys {
    const prepared: PreparedKeys = [];
    for (const index of [...this.ready.values(), ...[...this.builds.values()].map((b) => b.index)]) {
      if (index.indexedRows !== this.table.rows) continue;
      const keys = views.map((view) => index.keyOf(view));
      if (index.definition.unique) checkUniqueKeys(index, keys);
      prepared.push({ index, keys });
    }
    return prepared;
  }

  /** Adds a written batch's rows, starting at `firstRow`, to the indexes prepareBatch computed keys for. */
  commitBatch(firstRow: number, prepared: PreparedKeys | undefined): void {
    if (prepared === undefined) return;
    for (const { index, keys } of prepared) {
      for (let i = 0; i < keys.length; i++) index.add(firstRow + i, keys[i]);
    }
  }

  /** Ready indexes, for the checkpoint: each is caught up with the table. */
  snapshotSources(): UserIndex[] {
    return [...this.ready.values()].filter((index) => index.indexedRows === this.table.rows);
  }

  /** Saves usage counts if queries used any index since the catalog was last written. */
  close(): void {
    this.closed = true;
    if (this.usageChanged) this.persist();
  }

  /** A closed store has released its directory: reading is pointless and writing indexes.json unsafe. */
  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /**
   * Builds `index` slice by slice, then calls `install` in the same synchronous step as the slice
   * that caught up: an append made any later (even a microtask later, before the caller's `await`
   * resumes) must find the index among the ready ones, or it would never be indexed.
   */
  private async buildOnline(
    index: UserIndex,
    options: CreateIndexOptions,
    install: () => void,
  ): Promise<void> {
    const build: Build = { index, dropped: false };
    this.builds.set(index.name, build);
    const check = () => {
      if (this.closed) throw new StoreClosedError(`the store closed while building index ${index.name}`);
      if (build.dropped)
        throw new TammaError('INDEX_DROPPED', `index ${index.name} was dropped while building`);
    };
    try {
      for (;;) {
        this.indexUpTo(index, Math.min(this.table.rows, index.indexedRows + SLICE_ROWS));
        options.onProgress?.({ indexed: index.indexedRows, total: this.table.rows });
        if (index.indexedRows >= this.table.rows) break;
        await turn();
        check();
      }
      check(); // onProgress may have dropped the index or closed the store
      install();
    } finally {
      if (this.builds.get(index.name) === build) this.builds.delete(index.name);
    }
    this.generation++;
  }

  /** Indexes rows [index.indexedRows, end) of the current table (index-build.ts). */
  private indexUpTo(index: UserIndex, end: number): void {
    indexRowsUpTo(index, this.table, this.reader, end);
  }

  /** Whether an index is being built (online, in slices). */
  get building(): boolean {
    return this.builds.size > 0;
  }

  /** Whether a unique index exists (restoring archived events cannot check it before writing). */
  get hasUnique(): boolean {
    return [...this.ready.values()].some((index) => index.definition.unique === true);
  }

  /** Indexes rows the table gained without an append (a restore): every ready index catches up. */
  catchUp(): void {
    for (const index of this.ready.values()) this.indexUpTo(index, this.table.rows);
  }

  /** After cleanup removed every row below `floor` in place: every index, ready or building, forgets them. */
  dropBelow(floor: number): void {
    for (const index of this.ready.values()) index.dropBelow(floor);
    for (const build of this.builds.values()) build.index.dropBelow(floor);
    this.generation++;
  }

  /** After cleanup removed rows from the table: every index, ready or building, forgets them. */
  removeRows(): void {
    const removed = (row: number) => this.table.isRemoved(row);
    for (const index of this.ready.values()) index.removeRows(removed);
    for (const build of this.builds.values()) build.index.removeRows(removed);
    this.generation++;
  }

  private persist(): void {
    this.generation++;
    if (this.dir === undefined || this.readOnly !== undefined) return;
    this.usageChanged = false;
    writeIndexCatalog(this.dir, catalogOf(this.ready.values(), this.builtInUse));
  }

  private notFound(name: unknown): Error {
    if (typeof name !== 'string')
      return new ValidationError('name', `must be an index name (a string), got ${describe(name)}`);
    return new IndexNotFoundError(name, [...this.ready.keys(), ...this.builds.keys()]);
  }
}

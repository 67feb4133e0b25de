import type { FilterNode, Scalar } from '../../../query/ast.js';
import { compilePredicate } from '../exec/compile-filter.js';
import { VIEW_SOURCE, viewGetter, type EventView } from '../exec/event-view.js';
import { resolveField } from '../../../query/fields.js';
import type { EventTable } from '../table/event-table.js';
import { compareKeyParts, isKeyPart, type KeyPart } from '../../../indexes/index-keys.js';
import type { FieldAnalysis } from '../../../indexes/index-types.js';
import { partitionPoint } from '../../../support/binary-search.js';
import { visitFilter, type FilterVisitor } from '../../../query/visit-filter.js';
import { assertNever } from '../../../support/assert-never.js';

/** A filter node that tests one field. */
type Leaf = Exclude<FilterNode, { kind: 'all' | 'and' | 'or' | 'not' }>;

/** Events sampled for fields no index counts exactly: enough for ±3% on a selectivity. */
const SAMPLE_SIZE = 1024;
/** The sample is re-drawn once the table has grown or shrunk by this factor. */
const DRIFT = 2;

/**
 * The planner's statistics: exact counts where an index has them (types, aggregates, tag values,
 * time ranges), and for everything else (payload fields, tag ranges, versions) a sample of events
 * spread evenly over the table, re-drawn as the table drifts. Selectivities multiply under an
 * independence assumption, as in most cost-based planners.
 */
export class Statistics {
  private sample: EventView[] = [];
  private sampledAt = -1;
  private sampledGeneration = 0;

  constructor(
    private readonly table: EventTable,
    private readonly read: (rows: number[]) => EventView[],
  ) {}

  /** Share of all events matching the filter, in [0, 1]. */
  selectivity(node: FilterNode): number {
    if (this.table.present === 0) return 0;
    return visitFilter(node, this.selectivityOf);
  }

  private readonly selectivityOf: FilterVisitor<number> = {
    all: () => 1,
    and: (node) => node.filters.reduce((product, child) => product * this.selectivity(child), 1),
    or: (node) => 1 - node.filters.reduce((product, child) => product * (1 - this.selectivity(child)), 1),
    not: (node) => 1 - this.selectivity(node.filter),
    eq: (node) => this.leafSelectivity(node),
    ne: (node) => this.leafSelectivity(node),
    lt: (node) => this.leafSelectivity(node),
    lte: (node) => this.leafSelectivity(node),
    gt: (node) => this.leafSelectivity(node),
    gte: (node) => this.leafSelectivity(node),
    in: (node) => this.leafSelectivity(node),
    between: (node) => this.leafSelectivity(node),
    exists: (node) => this.leafSelectivity(node),
    prefix: (node) => this.leafSelectivity(node),
  };

  private leafSelectivity(node: Leaf): number {
    const exact = this.exactCount(node);
    if (exact !== undefined) return Math.min(1, exact / this.table.present);
    const sample = this.events();
    if (sample.length === 0) return 0;
    const hits = this.sampleHits(node, sample);
    // A value the sample missed is rare, not absent: assume half an event of the sample.
    return Math.max(hits, 0.5) / sample.length;
  }

  /**
   * Sampled events matching a leaf. Equality and ranges are answered from the field's sampled values,
   * sorted once per sample (a lookup and two binary searches), since the planner asks on every query.
   */
  private sampleHits(node: Leaf, sample: EventView[]): number {
    const values = this.sortedValues(node.field, sample);
    const count = (low: Scalar, high: Scalar, lowIn: boolean, highIn: boolean) =>
      countBetween(values, low, high, lowIn, highIn);
    switch (node.kind) {
      case 'eq':
        return node.value === null ? this.scan(node, sample) : count(node.value, node.value, true, true);
      case 'between':
        return count(node.low, node.high, true, true);
      case 'lt':
      case 'lte':
        return count(typeFloor(node.value), node.value, true, node.kind === 'lte');
      case 'gt':
      case 'gte':
        return count(node.value, typeCeiling(node.value), node.kind === 'gte', true);
      case 'ne':
      case 'in':
      case 'exists':
      case 'prefix':
        return this.scan(node, sample);
      default:
        return assertNever(node);
    }
  }

  private scan(node: FilterNode, sample: EventView[]): number {
    const matches = compilePredicate(node, VIEW_SOURCE);
    let hits = 0;
    for (const view of sample) if (matches(view)) hits++;
    return hits;
  }

  private readonly sorted = new Map<string, KeyPart[]>();

  private sortedValues(field: string, sample: EventView[]): KeyPart[] {
    let values = this.sorted.get(field);
    if (values === undefined) {
      const get = viewGetter(resolveField(field, 'field'));
      values = sample.map(get).filter(isKeyPart).sort(compareKeyParts);
      this.sorted.set(field, values);
    }
    return values;
  }

  /** Exact matching rows from the engine's own postings, where it has them. */
  private exactCount(node: FilterNode): number | undefined {
    if (!('field' in node)) return undefined;
    const ref = resolveField(node.field, 'filter.field');
    const values = node.kind === 'eq' ? [node.value] : node.kind === 'in' ? node.values : undefined;
    const table = this.table;
    if (values !== undefined && ref.kind === 'core' && (ref.name === 'aggregateId' || ref.name === 'type')) {
      const count = ref.name === 'type' ? table.typeCount.bind(table) : table.aggregateCount.bind(table);
      return new Set(values).size === values.length
        ? values.reduce<number>((sum, v) => sum + (typeof v === 'string' ? count(v) : 0), 0)
        : undefined;
    }
    if (values !== undefined && ref.kind === 'tag') {
      return [...new Set(values)].reduce<number>(
        (sum, v) => sum + (v === null ? 0 : table.tagCount(ref.key, v)),
        0,
      );
    }
    return undefined;
  }

  analyzeField(field: string): FieldAnalysis {
    const get = viewGetter(resolveField(field, 'field'));
    const sample = this.events();
    const values = sample
      .map(get)
      .filter((v): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v));
    const rank = (v: Scalar) => (typeof v === 'boolean' ? 0 : typeof v === 'number' ? 1 : 2);
    values.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    const histogram: FieldAnalysis['histogram'] = [];
    const per = Math.max(1, Math.ceil(values.length / 10));
    for (let i = 0; i < values.length; i += per) {
      const bucket = values.slice(i, i + per);
      histogram.push({
        from: bucket[0] as Scalar,
        to: bucket[bucket.length - 1] as Scalar,
        share: bucket.length / Math.max(1, sample.length),
      });
    }
    return {
      field,
      sampledRows: sample.length,
      exact: sample.length === this.table.present,
      present: sample.length === 0 ? 0 : values.length / sample.length,
      distinctValues: new Set(values).size,
      histogram,
    };
  }

  private events(): EventView[] {
    const { table } = this;
    const rows = table.present;
    // Small tables are sampled whole, so re-drawn on any growth past a quarter; big ones on drift,
    // and whenever cleanup has swapped in a compacted table.
    const stale =
      this.sampledAt < 0 ||
      this.sampledGeneration !== table.generation ||
      rows > Math.min(this.sampledAt * DRIFT, this.sampledAt * 1.25 + 16) ||
      rows * DRIFT < this.sampledAt;
    if (stale) {
      this.sample = this.read(sampleRows(table, Math.min(rows, SAMPLE_SIZE)));
      this.sampledAt = rows;
      this.sampledGeneration = table.generation;
      this.sorted.clear();
    }
    return this.sample;
  }
}

/** The lowest and highest values of an operand's type: open ends of a one-sided range. */
const typeFloor = (value: Scalar): Scalar => (typeof value === 'number' ? -Infinity : '');
const typeCeiling = (value: Scalar): Scalar =>
  typeof value === 'number' ? Infinity : '\uffff\uffff\uffff\uffff';

/** First position whose value is above `value` when `after`, else at or above it. */
function search(values: readonly KeyPart[], value: KeyPart, after: boolean): number {
  return partitionPoint(values.length, (i) => {
    const c = compareKeyParts(values[i] as KeyPart, value);
    return c < 0 || (after && c === 0);
  });
}

/** Sorted values between two bounds of one type; values of other types never match a comparison. */
function countBetween(
  values: readonly KeyPart[],
  low: Scalar,
  high: Scalar,
  lowIn: boolean,
  highIn: boolean,
): number {
  if (!isKeyPart(low) || !isKeyPart(high) || typeof low !== typeof high) return 0;
  return Math.max(0, search(values, high, highIn) - search(values, low, !lowIn));
}

/**
 * `size` rows spread evenly over the table, stepping over removed rows to the next present one, so
 * a table with holes is sampled as one without. Every row when `size` is all of them.
 */
function sampleRows(table: EventTable, size: number): number[] {
  const span = table.rows - table.firstRow;
  const step = span / Math.max(1, size);
  const out: number[] = [];
  let row = table.firstRow;
  for (let i = 0; i < size; i++) {
    row = Math.max(row, table.firstRow + Math.floor(i * step));
    while (row < table.rows && table.isRemoved(row)) row++;
    if (row >= table.rows) break;
    out.push(row++);
  }
  return out;
}

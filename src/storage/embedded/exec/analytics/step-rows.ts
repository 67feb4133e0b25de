import type { FilterNode } from '../../../../query/ast.js';
import { resolveField } from '../../../../query/fields.js';
import type { EventTable } from '../../table/event-table.js';
import { compileFilter, type BodyReader, type RowPredicate } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import { analyticsGetter } from './group-by-columns.js';

/** A row as patterns and funnels see it: its time from the column, its place in the log, its partition. */
export interface StepRow {
  readonly timestamp: number;
  readonly sequence: number;
  readonly row: number;
  /** The partition key: a dictionary code for aggregateId and type, an object's JSON, else the value. */
  readonly partition: unknown;
  /** Bit t: the row matches test t (up to 31 tests; 0 past that, when tests run as asked). */
  readonly mask: number;
}

export interface StepRows {
  readonly events: StepRow[];
  /** Whether the event matches test t: its bit, or the test itself past 31 tests. */
  matches(event: StepRow, t: number): boolean;
  /** A partition key given back as the field's value. */
  partitionValue(key: unknown): unknown;
}

const CHECK_EVERY = 65_536;

/**
 * The rows a pattern's or funnel's steps look at, read from the table's columns: each filter
 * compiled to a row predicate and tested once per row (the matchers ask many times a row), the
 * partition from its column. Rows no test matches are left out unless `keepAll` (strict
 * contiguity or a strict funnel, where every event of a partition stands between steps); rows
 * without the partition field belong to no partition and are left out.
 */
export function stepRows(
  rows: Int32Array,
  filters: readonly FilterNode[],
  partitionBy: string,
  keepAll: boolean,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
): StepRows {
  const tests: RowPredicate[] = filters.map((filter) => compileFilter(filter, table, body));
  const ref = resolveField(partitionBy, 'partitionBy');
  const coded = ref.kind === 'core' && (ref.name === 'aggregateId' || ref.name === 'type');
  const dictionary = coded ? (ref.name === 'type' ? table.types : table.aggregates) : undefined;
  const codeColumn = coded ? (ref.name === 'type' ? table.typeId : table.aggregateId) : undefined;
  const getter = analyticsGetter(partitionBy, table, body);
  const packed = tests.length <= 31;
  const events: StepRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    if ((i & (CHECK_EVERY - 1)) === CHECK_EVERY - 1) guard.check();
    const row = rows[i] as number;
    let mask = 0;
    if (packed) for (let t = 0; t < tests.length; t++) if ((tests[t] as RowPredicate)(row)) mask |= 1 << t;
    if (!keepAll && (packed ? mask === 0 : !tests.some((test) => test(row)))) continue;
    const value = codeColumn === undefined ? getter(row) : codeColumn.get(row);
    if (value === undefined || value === null) continue;
    // Object-valued keys compare by their JSON (a Map compares objects by identity).
    const partition = typeof value === 'object' ? `\u0000${JSON.stringify(value)}` : value;
    events.push({ timestamp: table.timestamp.get(row), sequence: row + 1, row, partition, mask });
  }
  guard.check();
  return {
    events,
    matches: packed
      ? (event, t) => (event.mask & (1 << t)) !== 0
      : (event, t) => (tests[t] as RowPredicate)(event.row),
    partitionValue: (key) => {
      if (dictionary !== undefined) return dictionary.valueOf(key as number);
      return typeof key === 'string' && key.startsWith('\u0000') ? JSON.parse(key.slice(1)) : key;
    },
  };
}

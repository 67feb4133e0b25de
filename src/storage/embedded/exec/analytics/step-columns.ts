import type { FilterNode } from '../../../../query/ast.js';
import { resolveField } from '../../../../query/fields.js';
import type { EventTable } from '../../table/event-table.js';
import { compileFilter, type BodyReader, type RowPredicate } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import { analyticsGetter } from './group-by-columns.js';
import type { SequenceLayout } from './sequence-task.js';

/** The step columns: a SequenceLayout, and the table row and partition value of its events. */
export interface StepColumns extends SequenceLayout {
  /** Each event's table row (its sequence is row + 1). */
  readonly rows: Int32Array;
  /** Partition p's key, as the partition field's value. */
  partitionValue(p: number): unknown;
}

const CHECK_EVERY = 65_536;

/**
 * The events a pattern's or funnel's tests look at, read from the table's columns into typed
 * arrays (sequence-task.ts): each test compiled to a row predicate and asked once per row into the
 * row's bit mask, the partition from its column (a dictionary code for aggregateId and type, a code
 * per distinct value otherwise). Rows no test matches are left out unless `keepAll` (strict
 * contiguity or a strict funnel, where every event of a partition stands between steps); rows
 * without the partition field belong to no partition and are left out. The partitions are then
 * laid out one after another by a counting sort (stable: row order within each), and a partition
 * whose times are out of order (late events) is sorted by (timestamp, sequence).
 */
export function stepColumns(
  rows: Int32Array,
  filters: readonly FilterNode[],
  partitionBy: string,
  keepAll: boolean,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
): StepColumns {
  const tests: RowPredicate[] = filters.map((filter) => compileFilter(filter, table, body));
  const words = Math.max(1, Math.ceil(tests.length / 32));
  const ref = resolveField(partitionBy, 'partitionBy');
  const coded = ref.kind === 'core' && (ref.name === 'aggregateId' || ref.name === 'type');
  const dictionary = coded ? (ref.name === 'type' ? table.types : table.aggregates) : undefined;
  const codeColumn = coded ? (ref.name === 'type' ? table.typeId : table.aggregateId) : undefined;
  const getter = analyticsGetter(partitionBy, table, body);
  // Partition values other than dictionary codes get codes as first seen.
  const codes = new Map<unknown, number>();
  const values: unknown[] = [];

  // Tests that read only the event's type (steps like type = 'X', the usual kind) are asked once per
  // type, on the first row of it, and their bits kept per type code; the others once per row.
  const byType = filters.map(readsOnlyType);
  const typeMasks = new Int32Array(table.types.size * words);
  const typeKnown = new Uint8Array(table.types.size);

  // The kept rows, in row order: their row, partition code and mask words.
  const keptRows = new Int32Array(rows.length);
  const keptCodes = new Int32Array(rows.length);
  const keptMasks = new Int32Array(rows.length * words);
  const mask = new Int32Array(words);
  let kept = 0;
  for (let i = 0; i < rows.length; i++) {
    if ((i & (CHECK_EVERY - 1)) === CHECK_EVERY - 1) guard.check();
    const row = rows[i] as number;
    const type = table.typeId.get(row);
    if (typeKnown[type] === 0) {
      typeKnown[type] = 1;
      for (let t = 0; t < tests.length; t++) {
        if (byType[t] && (tests[t] as RowPredicate)(row))
          typeMasks[type * words + (t >>> 5)]! |= 1 << (t & 31);
      }
    }
    let any = 0;
    for (let w = 0; w < words; w++) any |= mask[w] = typeMasks[type * words + w] as number;
    for (let t = 0; t < tests.length; t++) {
      if (!byType[t] && (tests[t] as RowPredicate)(row)) {
        mask[t >>> 5]! |= 1 << (t & 31);
        any = 1;
      }
    }
    if (any === 0 && !keepAll) continue;
    let code: number;
    if (codeColumn !== undefined) code = codeColumn.get(row);
    else {
      const value = getter(row);
      if (value === undefined || value === null) continue;
      // Object-valued keys compare by their JSON (a Map compares objects by identity).
      const key = typeof value === 'object' ? `\u0000${JSON.stringify(value)}` : value;
      let known = codes.get(key);
      if (known === undefined) {
        known = values.length;
        codes.set(key, known);
        values.push(value);
      }
      code = known;
    }
    keptRows[kept] = row;
    keptCodes[kept] = code;
    if (words === 1) keptMasks[kept] = mask[0] as number;
    else for (let w = 0; w < words; w++) keptMasks[kept * words + w] = mask[w] as number;
    kept++;
  }
  guard.check();

  // Counting sort by partition code: the partitions one after another, rows in order within each.
  const cardinality = dictionary !== undefined ? dictionary.size : values.length;
  const counts = new Int32Array(cardinality + 1);
  for (let i = 0; i < kept; i++) counts[(keptCodes[i] as number) + 1]! += 1;
  const partitionCodes: number[] = [];
  for (let c = 0; c < cardinality; c++) if ((counts[c + 1] as number) > 0) partitionCodes.push(c);
  for (let c = 0; c < cardinality; c++) counts[c + 1]! += counts[c] as number;
  // counts[c] is where code c's events start; the partitions are the codes that have any.
  const bounds = new Int32Array(partitionCodes.length + 1);
  partitionCodes.forEach((code, p) => (bounds[p + 1] = counts[code + 1] as number));
  const outRows = new Int32Array(kept);
  const ms = new Float64Array(kept);
  const masks = new Int32Array(kept * words);
  const times = table.timestamp;
  for (let i = 0; i < kept; i++) {
    const at = counts[keptCodes[i] as number]!++;
    const row = keptRows[i] as number;
    outRows[at] = row;
    ms[at] = times.get(row);
    if (words === 1) masks[at] = keptMasks[i] as number;
    else for (let w = 0; w < words; w++) masks[at * words + w] = keptMasks[i * words + w] as number;
  }
  for (let p = 0; p < partitionCodes.length; p++)
    orderByTime(bounds[p] as number, bounds[p + 1] as number, outRows, ms, masks, words);
  return {
    rows: outRows,
    ms,
    masks,
    words,
    bounds,
    partitionValue: (p) => {
      const code = partitionCodes[p] as number;
      return dictionary !== undefined ? dictionary.valueOf(code) : values[code];
    },
  };
}

/** Whether the filter reads nothing of an event but its type. */
function readsOnlyType(filter: FilterNode): boolean {
  switch (filter.kind) {
    case 'all':
      return true;
    case 'and':
    case 'or':
      return filter.filters.every(readsOnlyType);
    case 'not':
      return readsOnlyType(filter.filter);
    default:
      return filter.field === 'type';
  }
}

/** Shifts an insertion sort may make per event before the partition is sorted another way. */
const INSERTION_BUDGET = 8;

/**
 * Sorts events [from, to) by (timestamp, row) unless they are in that order already (rows are,
 * so only late events put a partition out of order). Nearly ordered partitions (a few late events)
 * are put in order by insertion, in place; one with more disorder than that is sorted through an
 * index.
 */
function orderByTime(
  from: number,
  to: number,
  rows: Int32Array,
  ms: Float64Array,
  masks: Int32Array,
  words: number,
): void {
  let sorted = true;
  for (let i = from + 1; i < to && sorted; i++) sorted = (ms[i - 1] as number) <= (ms[i] as number);
  if (sorted) return;
  if (words === 1 && insertionSorted(from, to, rows, ms, masks)) return;
  const order = Array.from({ length: to - from }, (_, k) => from + k);
  order.sort((a, b) => (ms[a] as number) - (ms[b] as number) || (rows[a] as number) - (rows[b] as number));
  const oldRows = rows.slice(from, to);
  const oldMs = ms.slice(from, to);
  const oldMasks = masks.slice(from * words, to * words);
  order.forEach((source, k) => {
    const at = from + k;
    rows[at] = oldRows[source - from] as number;
    ms[at] = oldMs[source - from] as number;
    for (let w = 0; w < words; w++) masks[at * words + w] = oldMasks[(source - from) * words + w] as number;
  });
}

/**
 * Insertion sort of [from, to) by (timestamp, row), one mask word per event; gives up (returning
 * false, the events left in some order) once it has shifted more than INSERTION_BUDGET per event.
 */
function insertionSorted(
  from: number,
  to: number,
  rows: Int32Array,
  ms: Float64Array,
  masks: Int32Array,
): boolean {
  let budget = INSERTION_BUDGET * (to - from);
  for (let i = from + 1; i < to; i++) {
    const t = ms[i] as number;
    const row = rows[i] as number;
    const mask = masks[i] as number;
    let j = i - 1;
    while (j >= from && ((ms[j] as number) > t || ((ms[j] as number) === t && (rows[j] as number) > row))) {
      ms[j + 1] = ms[j] as number;
      rows[j + 1] = rows[j] as number;
      masks[j + 1] = masks[j] as number;
      j--;
      if (--budget < 0) {
        ms[j + 1] = t;
        rows[j + 1] = row;
        masks[j + 1] = mask;
        return false;
      }
    }
    ms[j + 1] = t;
    rows[j + 1] = row;
    masks[j + 1] = mask;
  }
  return true;
}

import { matchPattern, type PatternRow } from '../../../../analytics/pattern-match.js';
import { windowMs } from '../../../../analytics/partition-events.js';
import type { PatternQuerySpec } from '../../../../query/analytics-ast.js';
import { resolveField } from '../../../../query/fields.js';
import type { StoredEvent } from '../../../../events/types.js';
import type { EventReader } from '../../table/event-reader.js';
import type { EventTable } from '../../table/event-table.js';
import { compileFilter, type BodyReader, type RowPredicate } from '../compile-filter.js';
import { analyticsGetter } from './group-by-columns.js';
import type { QueryGuard } from '../query-guard.js';

/** A row as the matcher sees it: its time from the column, its place in the log, its partition. */
interface RowEvent {
  readonly timestamp: number;
  readonly sequence: number;
  readonly row: number;
  readonly partition: unknown;
}

const CHECK_EVERY = 65_536;

/**
 * A pattern over the rows the filter selected, read from the table's columns: each step's filter
 * compiled to a row predicate, the partition key from its column (dictionary codes for aggregateId
 * and type), time and sequence from theirs. Only rows some step matches take part (other events
 * cannot start or continue a match), except with strict contiguity, where every event of the
 * partition stands between steps. Only the events of the matches found are read from the log.
 */
export function patternOverColumns(
  rows: Int32Array,
  spec: PatternQuerySpec,
  table: EventTable,
  reader: EventReader,
  body: BodyReader,
  guard: QueryGuard,
  now: number,
): Record<string, unknown>[] {
  const tests: RowPredicate[] = spec.steps.map((step) => compileFilter(step.where, table, body));
  const ref = resolveField(spec.partitionBy, 'pattern.partitionBy');
  const coded = ref.kind === 'core' && (ref.name === 'aggregateId' || ref.name === 'type');
  const dictionary = coded ? (ref.name === 'type' ? table.types : table.aggregates) : undefined;
  const codeColumn = coded ? (ref.name === 'type' ? table.typeId : table.aggregateId) : undefined;
  const getter = analyticsGetter(spec.partitionBy, table, body);
  const strict = spec.contiguity === 'strict';
  const events: RowEvent[] = [];
  for (let i = 0; i < rows.length; i++) {
    if ((i & (CHECK_EVERY - 1)) === CHECK_EVERY - 1) guard.check();
    const row = rows[i] as number;
    if (!strict && !tests.some((test) => test(row))) continue;
    const partition = codeColumn === undefined ? getter(row) : codeColumn.get(row);
    // An event without the partition field belongs to no partition: it takes part in no match.
    if (partition === undefined || partition === null) continue;
    events.push({ timestamp: table.timestamp.get(row), sequence: row + 1, row, partition: keyOf(partition) });
  }
  guard.check();
  const matches = matchPattern(events, {
    partitionBy: (event) => event.partition,
    steps: spec.steps.map((step, i) => ({
      name: step.name,
      test: (event: RowEvent) => (tests[i] as RowPredicate)(event.row),
      ...(step.absent ? { absent: true as const } : {}),
    })),
    withinMs: windowMs(spec.within, 'pattern.within'),
    contiguity: spec.contiguity ?? 'relaxed',
    now,
  });
  return hydrateMatches(matches, spec, reader, (key) => {
    if (dictionary !== undefined) return dictionary.valueOf(key as number);
    return typeof key === 'string' && key.startsWith('\u0000') ? JSON.parse(key.slice(1)) : key;
  });
}

/** Object-valued partition keys compare by their JSON (a Map compares objects by identity). */
function keyOf(value: unknown): unknown {
  return typeof value === 'object' ? `\u0000${JSON.stringify(value)}` : value;
}

/** The matches with each step's row replaced by its event, read from the log in one ordered pass. */
function hydrateMatches(
  matches: PatternRow[],
  spec: PatternQuerySpec,
  reader: EventReader,
  partitionOf: (key: unknown) => unknown,
): Record<string, unknown>[] {
  const rows = new Set<number>();
  for (const match of matches) {
    for (const step of spec.steps) {
      const event = match[step.name] as RowEvent | null;
      if (event !== null) rows.add(event.row);
    }
  }
  const ordered = [...rows].sort((a, b) => a - b);
  const events = reader.events(ordered);
  const byRow = new Map<number, StoredEvent>();
  ordered.forEach((row, i) => byRow.set(row, events[i] as StoredEvent));
  return matches.map((match) => {
    const out: Record<string, unknown> = { partition: partitionOf(match.partition) };
    for (const step of spec.steps) {
      const event = match[step.name] as RowEvent | null;
      out[step.name] = event === null ? null : (byRow.get(event.row) ?? null);
    }
    out.start = match.start;
    out.end = match.end;
    out.durationMs = match.durationMs;
    return out;
  });
}

import { matchPattern, type PatternRow } from '../../../../analytics/pattern-match.js';
import { windowMs } from '../../../../analytics/partition-events.js';
import type { PatternQuerySpec } from '../../../../query/analytics-ast.js';
import type { StoredEvent } from '../../../../events/types.js';
import type { EventReader } from '../../table/event-reader.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import { stepRows, type StepRow } from './step-rows.js';
import type { QueryGuard } from '../query-guard.js';

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
  const strict = spec.contiguity === 'strict';
  const found = stepRows(
    rows,
    spec.steps.map((step) => step.where),
    spec.partitionBy,
    strict,
    table,
    body,
    guard,
  );
  const matches = matchPattern(found.events, {
    partitionBy: (event) => event.partition,
    steps: spec.steps.map((step, i) => ({
      name: step.name,
      test: (event: StepRow) => found.matches(event, i),
      ...(step.absent ? { absent: true as const } : {}),
    })),
    withinMs: windowMs(spec.within, 'pattern.within'),
    contiguity: spec.contiguity ?? 'relaxed',
    now,
  });
  return hydrateMatches(matches, spec, reader, found.partitionValue);
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
      const event = match[step.name] as StepRow | null;
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
      const event = match[step.name] as StepRow | null;
      out[step.name] = event === null ? null : (byRow.get(event.row) ?? null);
    }
    out.start = match.start;
    out.end = match.end;
    out.durationMs = match.durationMs;
    return out;
  });
}

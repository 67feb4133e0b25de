import { ValidationError } from '../errors.js';
import type { FunnelMode, FunnelResult } from '../analytics/funnel.js';
import { windowMs } from '../analytics/partition-events.js';
import { runPipeline } from '../analytics/stages/run-pipeline.js';
import { stageName, validatePipeline } from '../analytics/stages/validate-pipeline.js';
import type { Duration, PipelineRow, PipelineStage } from '../query/analytics-ast.js';
import { f, MATCH_ALL, type EventQuery, type FilterNode, type QueryHints } from '../query/ast.js';
import { resolveField } from '../query/fields.js';
import { validateFilter } from '../query/validate-query.js';
import { describe } from '../support/describe.js';

/** `store.analytics.funnel(spec)`: see docs/analytics.md, Funnels. */
export interface FunnelQuery {
  /** The field that makes a journey: `aggregateId`, `tags.userId`, … */
  readonly partitionBy: string;
  /** One filter per step, in order. */
  readonly steps: readonly FilterNode[];
  /** How long after its first step a journey may reach the others. */
  readonly within: Duration;
  /** Only events matching it take part. */
  readonly where?: FilterNode;
  readonly mode?: FunnelMode;
  /** A journey with an event matching `where` between steps `between[0]` and `between[1]` is dropped. */
  readonly exclusions?: readonly {
    readonly where: FilterNode;
    readonly between: readonly [number, number];
  }[];
  /** Splits the funnel by this field's value on each journey's earliest event holding it. */
  readonly breakdownBy?: string;
  /** The query's hints: `parallel` (match journeys on the scan workers or not), `timeout`, … */
  readonly hints?: QueryHints;
}

export interface FunnelReport extends FunnelResult {
  /** With breakdownBy: the funnel of each value (null: journeys without the field), by value. */
  readonly breakdown?: { readonly value: unknown; readonly steps: FunnelResult['steps'] }[];
}

/** What the store's analytics read through: the engine's query path and the store's clock. */
export interface AnalyticsReads {
  execute(query: EventQuery): Promise<PipelineRow[]>;
  now(): number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const eventQuery = (filter: FilterNode): EventQuery => ({ kind: 'query', filter, orderBy: [], hints: {} });

/**
 * The pipeline's leading stages that one analytics query does in the engine (its filter through
 * the indexes, the group over columns): an optional match, then a group (after an optional time
 * bucket or window), a pattern or a join. Undefined when the pipeline does not start so.
 */
function pushdown(stages: readonly PipelineStage[]): { query: EventQuery; used: number } | undefined {
  let i = 0;
  let filter: FilterNode = MATCH_ALL;
  const first = stages[0];
  if (first !== undefined && stageName(first) === 'match') {
    filter = (first as { match: FilterNode }).match;
    i = 1;
  }
  const next = stages[i];
  if (next === undefined) return undefined;
  const base = eventQuery(filter);
  if ('timeBucket' in next && stages[i + 1] !== undefined && 'group' in (stages[i + 1] as object)) {
    const { group } = stages[i + 1] as Extract<PipelineStage, { group: unknown }>;
    const analytics = { bucket: next.timeBucket, groupBy: group.by ?? [], aggregates: group.aggregates };
    return { query: { ...base, analytics }, used: i + 2 };
  }
  if ('window' in next && stages[i + 1] !== undefined && 'group' in (stages[i + 1] as object)) {
    const { group } = stages[i + 1] as Extract<PipelineStage, { group: unknown }>;
    const by = group.by ?? [];
    if (!by.includes('windowStart') && !by.includes('windowEnd')) {
      const analytics = { window: next.window, groupBy: by, aggregates: group.aggregates };
      return { query: { ...base, analytics }, used: i + 2 };
    }
  }
  if ('group' in next) {
    return {
      query: { ...base, analytics: { groupBy: next.group.by ?? [], aggregates: next.group.aggregates } },
      used: i + 1,
    };
  }
  if ('pattern' in next) return { query: { ...base, analytics: { pattern: next.pattern } }, used: i + 1 };
  if ('join' in next) {
    const right =
      'kind' in next.join.right && next.join.right.kind === 'query'
        ? next.join.right
        : eventQuery(next.join.right as FilterNode);
    return { query: { ...base, analytics: { join: { ...next.join, right } } }, used: i + 1 };
  }
  return undefined;
}

/** `store.analytics`: funnels and pipelines over the store's events. */
export class StoreAnalytics {
  constructor(private readonly reads: AnalyticsReads) {}

  /**
   * Runs a pipeline (docs/analytics.md, Pipelines). Its leading match and group (or pattern, or
   * join) run as one query in the engine, with indexes and columns; the stages after them run over
   * that query's rows.
   */
  async pipeline(stages: readonly PipelineStage[]): Promise<PipelineRow[]> {
    validatePipeline(stages);
    const readEvents = (match: FilterNode | EventQuery) =>
      this.reads.execute('kind' in match && match.kind === 'query' ? match : eventQuery(match as FilterNode));
    const pushed = pushdown(stages);
    if (pushed === undefined) return runPipeline(stages, { readEvents, now: () => this.reads.now() });
    const rows = await this.reads.execute(pushed.query);
    // The rest runs over those rows: its first read is them, and a match that now comes first
    // filters them as it would have (a having).
    const rest = stages
      .slice(pushed.used)
      .map((stage, i) => (i === 0 && 'match' in stage ? { having: stage.match } : stage));
    let first = true;
    return runPipeline(rest, {
      readEvents: (match) => {
        if (!first) return readEvents(match);
        first = false;
        return Promise.resolve(rows);
      },
      now: () => this.reads.now(),
    });
  }

  /** A conversion funnel: how many journeys reach each step within the window (docs/analytics.md, Funnels). */
  async funnel(spec: FunnelQuery): Promise<FunnelReport> {
    validateFunnel(spec);
    const mode = spec.mode ?? 'sequential';
    // Only events some step or exclusion matches take part, but in strict mode every event of a
    // journey stands between its steps.
    const relevant =
      mode === 'strict'
        ? MATCH_ALL
        : f.or(...spec.steps, ...(spec.exclusions ?? []).map((exclusion) => exclusion.where));
    const where =
      spec.where === undefined
        ? relevant
        : relevant.kind === 'all'
          ? spec.where
          : f.and(spec.where, relevant);
    // One query: the engine runs the funnel where the events are (the embedded one over its columns),
    // breakdown included.
    const funnelSpec = {
      partitionBy: spec.partitionBy,
      steps: spec.steps,
      within: spec.within,
      mode,
      ...(spec.exclusions === undefined ? {} : { exclusions: spec.exclusions }),
      ...(spec.breakdownBy === undefined ? {} : { breakdownBy: spec.breakdownBy }),
    };
    const [row] = await this.reads.execute({
      ...eventQuery(where),
      hints: spec.hints ?? {},
      analytics: { funnel: funnelSpec },
    });
    return row as unknown as FunnelReport;
  }
}

function validateFunnel(spec: unknown): void {
  if (!isObject(spec)) throw new ValidationError('funnel', `must be an object, got ${describe(spec)}`);
  resolveField(spec.partitionBy, 'funnel.partitionBy');
  const steps = spec.steps;
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new ValidationError('funnel.steps', `must be a non-empty array of filters, got ${describe(steps)}`);
  }
  steps.forEach((step: unknown, i: number) => validateFilter(step, `funnel.steps[${i}]`));
  if (spec.where !== undefined) validateFilter(spec.where, 'funnel.where');
  if (spec.breakdownBy !== undefined) resolveField(spec.breakdownBy, 'funnel.breakdownBy');
  const exclusions = spec.exclusions ?? [];
  if (!Array.isArray(exclusions)) {
    throw new ValidationError(
      'funnel.exclusions',
      `must be an array of { where, between }, got ${describe(exclusions)}`,
    );
  }
  exclusions.forEach((exclusion: unknown, i: number) => {
    if (!isObject(exclusion)) {
      throw new ValidationError(
        `funnel.exclusions[${i}]`,
        `must be { where, between }, got ${describe(exclusion)}`,
      );
    }
    validateFilter(exclusion.where, `funnel.exclusions[${i}].where`);
  });
  windowMs(spec.within, 'funnel.within');
}

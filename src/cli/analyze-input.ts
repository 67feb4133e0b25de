import { MATCH_ALL, type EventQuery, type FunnelQuery, type PipelineStage } from '../index.js';
import { describe } from '../support/describe.js';
import { UsageError } from './errors.js';

/** What `analyze --json` runs: a pipeline, a builder query (an EventQuery with `analytics`), or a funnel. */
export type AnalyzeInput =
  | { readonly kind: 'pipeline'; readonly stages: PipelineStage[] }
  | { readonly kind: 'query'; readonly query: EventQuery }
  | { readonly kind: 'funnel'; readonly funnel: FunnelQuery };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Reads `--json`: a JSON array is a pipeline (`store.analytics.pipeline`), `{"kind":"query",...}`
 * an EventQuery run by the builder (`filter`, `orderBy` and `hints` may be left out), and
 * `{"funnel":{...}}` a funnel. Only the shape is checked here; the store checks the parts and
 * names a bad one by its path.
 */
export function parseAnalyzeJson(text: string): AnalyzeInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--json must be JSON: a pipeline (an array of stages), a query object ({"kind":"query",...}) ` +
        `or {"funnel":{...}}: ${(error as Error).message}`,
    );
  }
  if (Array.isArray(parsed)) return { kind: 'pipeline', stages: parsed as PipelineStage[] };
  if (isObject(parsed) && parsed.kind === 'query') {
    const query = {
      filter: MATCH_ALL,
      orderBy: [],
      hints: {},
      ...parsed,
    } as unknown as EventQuery;
    return { kind: 'query', query };
  }
  if (isObject(parsed) && Object.keys(parsed).length === 1 && isObject(parsed.funnel)) {
    return { kind: 'funnel', funnel: parsed.funnel as unknown as FunnelQuery };
  }
  throw new UsageError(
    '--json must be a pipeline (an array of stages, e.g. [{"match":...},{"group":...}]), a query object ' +
      `({"kind":"query","filter":...,"analytics":{...}}) or {"funnel":{...}}; got ${describe(parsed)}`,
  );
}

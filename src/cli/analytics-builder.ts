import type { AdvancedQueryBuilder, EventQuery, EventStore } from '../index.js';
import { validateAnalytics } from '../analytics/validate-analytics.js';
import { validateQuery } from '../query/validate-query.js';
import { UsageError } from './errors.js';

const QUERY_PARTS = [
  'kind',
  'filter',
  'source',
  'analytics',
  'orderBy',
  'select',
  'limit',
  'offset',
  'hints',
];
const ANALYTICS_PARTS = ['join', 'pattern', 'bucket', 'window', 'groupBy', 'aggregates', 'having'];

/**
 * Checks a query before any store opens: a part the builder would not carry over is refused
 * rather than dropped (nothing runs other than asked), then the store's own validation of the
 * query and its analytics names a bad part by its path.
 */
export function checkAnalyticsQuery(query: EventQuery): void {
  checkParts(query);
  validateQuery(query);
  if (query.analytics !== undefined) validateAnalytics(query.analytics);
}

function checkParts(query: EventQuery): void {
  for (const key of Object.keys(query)) {
    if (!QUERY_PARTS.includes(key)) {
      throw new UsageError(
        `--json query: ${JSON.stringify(key)} is not taken here; expected ${QUERY_PARTS.join(', ')}`,
      );
    }
  }
  const analytics: unknown = query.analytics;
  if (analytics === undefined) return;
  if (analytics === null || typeof analytics !== 'object' || Array.isArray(analytics)) {
    throw new UsageError('--json query: "analytics" must be an object');
  }
  for (const key of Object.keys(analytics)) {
    if (key === 'funnel') {
      throw new UsageError(
        '--json query: run a funnel as --json \'{"funnel":{...}}\' (store.analytics.funnel)',
      );
    }
    if (!ANALYTICS_PARTS.includes(key)) {
      throw new UsageError(
        `--json query: analytics.${key} is not an analytics part; expected ${ANALYTICS_PARTS.join(', ')}`,
      );
    }
  }
}

/**
 * The builder whose query is exactly `query`, analytics included. The builder takes an AST only
 * piece by piece, and each piece is checked as it is added, in the order the analytics apply
 * (join, pattern, bucket or window, group, aggregates, having), so a bad part is named by the
 * builder method that refused it.
 */
export function analyticsBuilder(store: EventStore, query: EventQuery): AdvancedQueryBuilder {
  let builder: AdvancedQueryBuilder = store.query();
  if (query.filter.kind !== 'all') builder = builder.where(query.filter);
  if (query.source !== undefined) builder = builder.from(query.source);
  const analytics = query.analytics;
  if (analytics !== undefined) {
    if (analytics.join !== undefined) {
      const { right, ...options } = analytics.join;
      builder = builder.join(right, options);
    }
    if (analytics.pattern !== undefined) builder = builder.pattern(analytics.pattern);
    if (analytics.bucket !== undefined) {
      const { width, ...options } = analytics.bucket;
      builder = builder.timeBucket(width, options);
    }
    if (analytics.window !== undefined) builder = builder.timeWindow(analytics.window);
    if (analytics.groupBy !== undefined && analytics.groupBy.length > 0) {
      builder = builder.groupBy(analytics.groupBy);
    }
    if (analytics.aggregates !== undefined) builder = builder.aggregate(analytics.aggregates);
    if (analytics.having !== undefined) builder = builder.having(analytics.having);
  }
  for (const term of query.orderBy) builder = builder.orderBy(term.field, term.direction);
  if (query.select !== undefined) builder = builder.select(query.select);
  if (query.limit !== undefined) builder = builder.limit(query.limit);
  if (query.offset !== undefined) builder = builder.offset(query.offset);
  if (Object.keys(query.hints).length > 0) builder = builder.hint(query.hints);
  return builder;
}

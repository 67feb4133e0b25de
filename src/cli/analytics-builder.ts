import type { AdvancedQueryBuilder, EventQuery, EventStore } from '../index.js';

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

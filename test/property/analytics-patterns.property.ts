/**
 * Patterns through store.query().pattern() against matchPattern run in plain JavaScript over the
 * appended events (matchPattern itself is checked against a brute-force oracle in
 * test/analytics/patterns.property.test.ts): random events with out-of-order and colliding
 * timestamps, random steps (by type, some absent), both contiguities, a where filter, partitions
 * by aggregateId or a tag some events lack. Rows must match one for one, events and all.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { f, funnel, ManualClock, matchPattern, type NewEvent, type StoredEvent } from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';
import { prepareStore } from '../support/property-store.js';

const T0 = Date.UTC(2025, 5, 1);
const NOW = T0 + 50 * 60_000; // events up to 4 minutes later still append (futureTolerance 5m)
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);
const TYPES = ['A', 'B', 'C'];

const eventArb: fc.Arbitrary<NewEvent> = fc
  .record({
    aggregate: fc.integer({ min: 0, max: 3 }),
    type: fc.constantFrom(...TYPES),
    minutes: fc.integer({ min: 0, max: 54 }),
    issue: fc.option(fc.constantFrom('i1', 'i2'), { nil: undefined }),
  })
  .map((r) => ({
    aggregateId: `a${r.aggregate}`,
    type: r.type,
    timestamp: new Date(T0 + r.minutes * 60_000),
    ...(r.issue === undefined ? {} : { tags: { issue: r.issue } }),
  }));

const specArb = fc.record({
  partitionBy: fc.constantFrom('aggregateId', 'tags.issue'),
  steps: fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 3 }),
  absentLast: fc.boolean(),
  within: fc.integer({ min: 0, max: 30 }),
  strict: fc.boolean(),
  exclude: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
  // hints.parallel: true matches the partitions on the scan workers however few the events.
  parallel: fc.constantFrom(false, false, false, true),
});

export function analyticsPatternProperties(factory: StoreFactory): void {
  describe(`${factory.name}: patterns and funnels against the plain matchers over the events`, () => {
    test('every match equals the plain matcher’s', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eventArb, { maxLength: 80 }), specArb, async (events, spec) => {
          const prepared = await prepareStore(
            factory,
            new ManualClock(NOW),
            { writer: {}, reader: {}, dropCheckpoint: false },
            async (store) => (events.length === 0 ? [] : store.append(events)),
          );
          try {
            const absent = spec.absentLast && spec.steps.length > 1;
            const steps = spec.steps.map((type, i) => ({
              name: `s${i}`,
              where: f.eq('type', type),
              ...(absent && i === spec.steps.length - 1 ? { absent: true as const } : {}),
            }));
            let query = prepared.store.query().hint({ parallel: spec.parallel });
            if (spec.exclude !== undefined) query = query.where(f.ne('type', spec.exclude));
            const rows = await query
              .pattern({
                partitionBy: spec.partitionBy,
                steps,
                within: spec.within * 60_000,
                contiguity: spec.strict ? 'strict' : 'relaxed',
              })
              .execute();
            const kept = prepared.all.filter((e) => spec.exclude === undefined || e.type !== spec.exclude);
            const partitionOf = (e: StoredEvent) =>
              spec.partitionBy === 'aggregateId' ? e.aggregateId : (e.tags as Record<string, unknown>).issue;
            const expected = matchPattern(
              kept.filter((e) => partitionOf(e) !== undefined),
              {
                partitionBy: partitionOf,
                steps: spec.steps.map((type, i) => ({
                  name: `s${i}`,
                  test: (e: StoredEvent) => e.type === type,
                  ...(absent && i === spec.steps.length - 1 ? { absent: true as const } : {}),
                })),
                withinMs: spec.within * 60_000,
                contiguity: spec.strict ? 'strict' : 'relaxed',
                now: NOW,
              },
            );
            expect(rows).toEqual(expected);
          } finally {
            await prepared.cleanup();
          }
        }),
        { numRuns: factory.capabilities.durable ? Math.ceil(RUNS / 4) : RUNS },
      );
    });

    test('store.analytics.funnel equals funnel() over the same events, in every mode', async () => {
      const funnelArb = fc.record({
        steps: fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 4 }),
        within: fc.integer({ min: 0, max: 30 }),
        mode: fc.constantFrom('sequential' as const, 'strict' as const, 'any' as const),
        exclude: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
        exclusion: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
        partitionBy: fc.constantFrom('aggregateId', 'tags.issue'),
        parallel: fc.constantFrom(false, false, false, true),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(eventArb, { maxLength: 80 }), funnelArb, async (events, spec) => {
          const prepared = await prepareStore(
            factory,
            new ManualClock(NOW),
            { writer: {}, reader: {}, dropCheckpoint: false },
            async (store) => (events.length === 0 ? [] : store.append(events)),
          );
          try {
            const exclusions =
              spec.exclusion === undefined || spec.steps.length < 2 || spec.mode === 'any'
                ? []
                : [
                    {
                      where: f.eq('type', spec.exclusion),
                      between: [0, spec.steps.length - 1] as [number, number],
                    },
                  ];
            const report = await prepared.store.analytics.funnel({
              partitionBy: spec.partitionBy,
              steps: spec.steps.map((type) => f.eq('type', type)),
              within: spec.within * 60_000,
              mode: spec.mode,
              exclusions,
              hints: { parallel: spec.parallel },
              ...(spec.exclude === undefined ? {} : { where: f.ne('type', spec.exclude) }),
            });
            const partitionOf = (e: StoredEvent) =>
              spec.partitionBy === 'aggregateId' ? e.aggregateId : (e.tags as Record<string, unknown>).issue;
            const expected = funnel(
              prepared.all.filter(
                (e) =>
                  partitionOf(e) !== undefined && (spec.exclude === undefined || e.type !== spec.exclude),
              ),
              {
                partitionBy: partitionOf,
                steps: spec.steps.map((type) => (e: StoredEvent) => e.type === type),
                withinMs: spec.within * 60_000,
                mode: spec.mode,
                exclusions: exclusions.map((x) => ({
                  test: (e: StoredEvent) => e.type === spec.exclusion,
                  between: x.between,
                })),
              },
            );
            expect(report).toEqual(expected);
          } finally {
            await prepared.cleanup();
          }
        }),
        { numRuns: factory.capabilities.durable ? Math.ceil(RUNS / 4) : RUNS },
      );
    });
  });
}

import { formatDuration, formatFixed, formatInt } from '../cli/format.js';
import { renderTable } from '../cli/table.js';
import { agg, f, type EventStore, type PipelineRow } from '../index.js';

/**
 * A few analytics queries over the demo's sample, each timed once (the first run, so a payload
 * field column's extraction is in it) and printed compactly: a time-bucketed group-by, a pipeline
 * that joins two event types, a pattern and a funnel.
 */

const MINUTE = 60_000;

type Print = (line?: string) => void;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

const hour = (ms: unknown): string =>
  new Date(ms as number).toISOString().slice(0, 13).replace('T', ' ') + ':00';
/** A duration: `2 min 5 s`, or hours with two decimals from an hour on (workflows run for hours). */
const ms = (value: unknown): string => {
  if (typeof value !== 'number') return '-';
  if (value === 0) return '0';
  return value >= 3_600_000 ? `${formatFixed(value / 3_600_000, 2)} h` : formatDuration(value);
};
const percent = (value: number | null): string => (value === null ? '-' : `${formatFixed(100 * value, 1)}%`);

export async function runAnalytics(store: EventStore, out: Print): Promise<void> {
  // 1. Events per type per hour: the busiest (hour, type) pairs.
  const perHour = await timed(() =>
    store
      .query()
      .timeBucket('1h')
      .groupBy(['type'])
      .aggregate({ n: agg.count() })
      .orderBy('n', 'desc')
      .limit(3)
      .execute(),
  );
  out(`  events per type per hour (timeBucket + groupBy + count), top 3: ${formatDuration(perHour.ms)}`);
  out(
    renderTable(
      [{ header: 'hour (UTC)' }, { header: 'type' }, { header: 'n', align: 'right' }],
      perHour.value.map((row) => [hour(row.bucket), String(row.type), formatInt(row.n as number)]),
      '    ',
    ),
  );

  // 2. Per issue, WORKFLOW.STARTED joined with its WORKFLOW.COMPLETED; p50/p95 of the time between, per provider.
  const durations = await timed(() =>
    store.analytics.pipeline([
      { match: f.eq('type', 'WORKFLOW.STARTED') },
      { join: { right: f.eq('type', 'WORKFLOW.COMPLETED'), on: 'tags.issueId', as: 'done' } },
      { project: { provider: 'tags.provider', ms: { sub: ['done.timestamp', 'timestamp'] } } },
      {
        group: {
          by: ['provider'],
          aggregates: {
            issues: agg.count(),
            p50: { kind: 'percentile', field: 'ms', p: 0.5 },
            p95: { kind: 'percentile', field: 'ms', p: 0.95 },
          },
        },
      },
      { sort: [{ field: 'issues', direction: 'desc' }] },
    ]),
  );
  out();
  out(
    `  issue start to completion per provider (pipeline: join on tags.issueId, project, percentile): ${formatDuration(durations.ms)}`,
  );
  out(
    renderTable(
      [
        { header: 'provider' },
        { header: 'issues', align: 'right' },
        { header: 'p50', align: 'right' },
        { header: 'p95', align: 'right' },
      ],
      durations.value.map((row: PipelineRow) => [
        String(row.provider),
        formatInt(row.issues as number),
        ms(row.p50),
        ms(row.p95),
      ]),
      '    ',
    ),
  );

  // 3. A pattern: failing tests followed by a failed workflow within 10 minutes, per workflow.
  const pattern = await timed(() =>
    store
      .query()
      .where(f.in('type', ['TESTS.FAILED', 'WORKFLOW.FAILED']))
      .pattern({
        partitionBy: 'aggregateId',
        steps: [
          { name: 'tests', where: f.eq('type', 'TESTS.FAILED') },
          { name: 'failed', where: f.eq('type', 'WORKFLOW.FAILED') },
        ],
        within: 10 * MINUTE,
      })
      .aggregate({ matches: agg.count(), medianGap: agg.median('durationMs') })
      .execute(),
  );
  const found = pattern.value[0] ?? {};
  out();
  out(
    `  pattern TESTS.FAILED then WORKFLOW.FAILED within 10 min, per workflow: ${formatInt(found.matches as number)} ` +
      `matches, median gap ${ms(found.medianGap)} (${formatDuration(pattern.ms)})`,
  );

  // 4. A funnel: started, PR merged, completed, within a day of the start.
  const funnel = await timed(() =>
    store.analytics.funnel({
      partitionBy: 'aggregateId',
      steps: [
        f.eq('type', 'WORKFLOW.STARTED'),
        f.eq('type', 'PR.MERGED'),
        f.eq('type', 'WORKFLOW.COMPLETED'),
      ],
      within: '1d',
    }),
  );
  const names = ['WORKFLOW.STARTED', 'PR.MERGED', 'WORKFLOW.COMPLETED'];
  out();
  out(`  funnel started → PR merged → completed within 1 day, per workflow: ${formatDuration(funnel.ms)}`);
  out(
    renderTable(
      [
        { header: 'step' },
        { header: 'workflows', align: 'right' },
        { header: 'conversion', align: 'right' },
        { header: 'from previous', align: 'right' },
        { header: 'median time', align: 'right' },
      ],
      funnel.value.steps.map((step) => [
        names[step.step] ?? String(step.step),
        formatInt(step.count),
        percent(step.conversion),
        percent(step.fromPrevious),
        ms(step.medianTimeToConvertMs),
      ]),
      '    ',
    ),
  );
}

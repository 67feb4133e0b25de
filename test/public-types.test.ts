import { describe, expect, expectTypeOf, it } from 'vitest';
// A consumer's view: everything below comes from the package entry point, and nothing is cast.
// `npm run typecheck` (tsc over test/) checks the types; vitest runs the calls for real.
import {
  AdvancedQueryBuilder,
  ConcurrencyError,
  CorruptionError,
  f,
  ManualClock,
  openEventStore,
  StoreLockedError,
  TammaError,
  ValidationError,
  bucketGrid,
  bucketRange,
  bucketStart,
  nextBucket,
  parseBucketWidth,
  type BucketGrid,
  type BucketOptions,
  type BucketWidth,
  type CleanupReport,
  type CleanupStats,
  type EventQuery,
  type EventStore,
  type EventStoreOptions,
  type Explanation,
  type OpenOptions,
  type PolicyDescription,
  type RepairReport,
  type RestoreReport,
  type ResultPage,
  type RetentionOptions,
  type StoredEvent,
  type StoreStats,
  type VerifyReport,
  verifyStore,
  repairStore,
} from '../src/index.js';

interface OrderPlaced {
  orderId: string;
  total: number;
}

describe('the public types', () => {
  it('type the common calls so that they need no casts', async () => {
    const retention: RetentionOptions = { maxAge: '30d', types: { 'DEBUG.*': '7d' }, schedule: false };
    const options: EventStoreOptions = { clock: new ManualClock(Date.UTC(2025, 0, 1)), retention };
    expectTypeOf(options).toEqualTypeOf<OpenOptions>();
    const store: EventStore = await openEventStore(options);
    try {
      const appended = await store.append<OrderPlaced>({
        aggregateId: 'order-1',
        type: 'ORDER.PLACED',
        payload: { orderId: 'o-1', total: 42 },
      });
      expectTypeOf(appended).toEqualTypeOf<StoredEvent<OrderPlaced>[]>();
      expect(appended[0]?.payload.total).toBe(42);
      // A batch of mixed payloads needs no type argument; its payloads are then unknown.
      const mixed = await store.append([
        { aggregateId: 'order-2', type: 'ORDER.PLACED', payload: { orderId: 'o-2', total: 7 } },
        { aggregateId: 'order-2', type: 'ORDER.NOTE', payload: 'gift wrap' },
      ]);
      expectTypeOf(mixed).toEqualTypeOf<StoredEvent<unknown>[]>();
      const notAnOrder = { aggregateId: 'x', type: 'T', payload: { orderId: 1 } };
      // @ts-expect-error a payload that is not an OrderPlaced is refused at compile time
      const refused = () => store.append<OrderPlaced>(notAnOrder);
      expect(typeof refused).toBe('function');

      const stream = await store.getEvents<OrderPlaced>('order-1');
      expectTypeOf(stream[0]!.payload).toEqualTypeOf<OrderPlaced>();
      const byType = await store.getEventsByType<OrderPlaced>('ORDER.PLACED');
      const matched = await store.queryEvents<OrderPlaced>({ type: 'ORDER.PLACED' });
      expect(byType.map((e) => e.payload.orderId)).toEqual(['o-1', 'o-2']);
      expect(matched.map((e) => e.payload.total)).toEqual([42, 7]);

      const query = store.query<OrderPlaced>().where('payload.total', 'gt', 10).orderBy('timestamp', 'desc');
      const rows = await query.execute();
      expectTypeOf(rows).toEqualTypeOf<StoredEvent<OrderPlaced>[]>();
      expect(rows.map((e) => e.payload.orderId)).toEqual(['o-1']);
      const page: ResultPage<StoredEvent<OrderPlaced>> = await query.limit(1).executePage();
      expect(page.rows[0]?.payload.total).toBe(42);
      for await (const event of query.executeStream())
        expectTypeOf(event.payload).toEqualTypeOf<OrderPlaced>();
      // After `select` the rows are records of the selected fields.
      const selected = await query.select(['payload.total']).execute();
      expectTypeOf(selected).toEqualTypeOf<Record<string, unknown>[]>();
      expect(selected).toEqual([{ 'payload.total': 42 }]);
      // Any builder fits the bare type, so one variable can hold a query before and after select.
      let builder: AdvancedQueryBuilder = store.query().where(f.eq('type', 'ORDER.PLACED'));
      builder = builder.select(['id']);
      const ast: EventQuery = builder.toQuery();
      const explained: Explanation = await store.explain(ast);
      expect(explained.estimatedRows).toBeGreaterThan(0);

      const cleaned: CleanupReport = await store.cleanup();
      expect(cleaned.removed).toBe(0);
      const stats: StoreStats = store.stats();
      const policy: PolicyDescription = stats.retention;
      const totals: CleanupStats = stats.cleanup;
      expect(policy.maxAge).toBe('30d');
      expect(totals.runs).toBeGreaterThanOrEqual(1);
    } finally {
      await store.close();
    }
    // Every error the store throws is a TammaError with a stable code.
    const errors = [ValidationError, ConcurrencyError, CorruptionError, StoreLockedError];
    for (const type of errors) expect(type.prototype).toBeInstanceOf(TammaError);
  });

  it('name the reports of the maintenance functions', () => {
    expectTypeOf(verifyStore).returns.resolves.toEqualTypeOf<VerifyReport>();
    expectTypeOf(repairStore).returns.resolves.toEqualTypeOf<RepairReport>();
    expectTypeOf<EventStore['restoreArchive']>().returns.resolves.toEqualTypeOf<RestoreReport>();
  });

  it('type the time-bucket functions', () => {
    const options: BucketOptions = { timezone: 'Europe/London' };
    const width: BucketWidth = parseBucketWidth('1d');
    const grid: BucketGrid = bucketGrid(width, options);
    const start: number = bucketStart(Date.UTC(2024, 2, 31, 12), '1d', options);
    expect(grid.start(start)).toBe(start);
    expect(nextBucket(start, width, options) - start).toBe(23 * 3_600_000);
    expectTypeOf(bucketRange(start, start, '1h')).toEqualTypeOf<number[]>();
  });
});

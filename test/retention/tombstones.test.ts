import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, ValidationError, openEventStore } from '../../src/index.js';
import { fill, live, seqs, T0 } from '../support/erasure-sample.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';

let dir: string;

beforeEach(async () => {
  dir = await tempDir('tombstones');
});

afterEach(async () => {
  await removeDir(dir);
});

/** How tombstones refuse appends and are kept on disk; the erasure itself is in test/contract/erasure.contract.ts. */
describe('deleteAggregate (tombstones)', () => {
  it('refuses appends to a deleted stream and writes nothing', async () => {
    const store = await openEventStore({ clock: new ManualClock(T0) });
    await fill(store);
    await store.deleteAggregate('s1');
    const batch = [
      { aggregateId: 's0', type: 'A' },
      { aggregateId: 's1', type: 'A' },
    ];
    expectError(
      await rejection(() => store.append(batch)),
      ValidationError,
      'AGGREGATE_DELETED',
      'events[1].aggregateId',
    );
    expectError(
      await rejection(() => store.appendToStream('s1', [{ type: 'A', id: 'x' }])),
      ValidationError,
      'AGGREGATE_DELETED',
      'aggregateId',
    );
    expect(store.stats()).toMatchObject({ events: 50, lastSequence: 60 });
    // A stream never seen can be deleted too, and then never started.
    expect(await store.deleteAggregate('never')).toBe(true);
    expectError(
      await rejection(() => store.append({ aggregateId: 'never', type: 'A' })),
      ValidationError,
      'AGGREGATE_DELETED',
      'events[0].aggregateId',
    );
    expect(store.stats()).toMatchObject({ events: 50, aggregates: 5, deletedAggregates: 2 });
    expectError(
      await rejection(() => store.deleteAggregate('')),
      ValidationError,
      'VALIDATION_FAILED',
      'aggregateId',
    );
    await store.close();
  });

  it('survives restart, and a torn last line (a deletion never acknowledged) is ignored', async () => {
    const path = join(dir, 'store');
    let store = await openEventStore({ dir: path, clock: new ManualClock(T0) });
    await fill(store);
    await store.deleteAggregate('s4');
    await store.close();
    writeFileSync(
      join(path, 'tombstones.log'),
      `${readFileSync(join(path, 'tombstones.log'), 'utf8')}{"aggreg`,
    );
    store = await openEventStore({ dir: path, clock: new ManualClock(T0) });
    expect(await store.getEvents('s4')).toEqual([]);
    expect(seqs(await store.read())).toEqual(live(new Set(['s4'])));
    expect(store.stats()).toMatchObject({ events: 50, deletedAggregates: 1 });
    await store.close();
  });
});

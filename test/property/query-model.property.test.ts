import { describe, expect, test } from 'vitest';
import { f, MATCH_ALL, type StoredEvent, type TagValue } from '../../src/index.js';
import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';
import { MINUTE, oracle, T0, type Query } from '../support/query-model.js';
import { queryModelProperties } from './query-model.property.js';

queryModelProperties(embeddedInMemory);
queryModelProperties(embeddedOnDisk);

describe('the query model matches an independent oracle on every access path', () => {
  test('the oracle agrees with hand-picked cases (so a wrong oracle cannot pass silently)', () => {
    const at = (
      sequence: number,
      tags: Record<string, TagValue>,
      payload: unknown,
      minute = 0,
    ): StoredEvent => ({
      sequence,
      id: `id-${sequence}`,
      aggregateId: 'acc-1',
      version: sequence,
      type: 'user.created',
      timestamp: new Date(T0 + minute * MINUTE),
      tags,
      payload,
      metadata: {},
    });
    const events = [
      at(1, { k: '5' }, { x: null, arr: [{ x: 1 }] }, 3),
      at(2, { k: 5 }, { x: 'b' }, 1),
      at(3, { k: true }, null, 2),
      at(4, {}, { x: 2, o: { x: 'a' } }, 1),
    ];
    const seqs = (q: Query) => (oracle(events, q) as StoredEvent[]).map((e) => e.sequence);
    expect(seqs({ filter: f.gt('tags.k', 4), orderBy: [] })).toEqual([2]);
    expect(seqs({ filter: f.exists('payload.x'), orderBy: [] })).toEqual([1, 2, 4]);
    expect(seqs({ filter: f.ne('tags.k', 5), orderBy: [] })).toEqual([1, 3]);
    expect(seqs({ filter: f.not(f.eq('tags.k', 5)), orderBy: [] })).toEqual([1, 3, 4]);
    expect(seqs({ filter: f.eq('payload.arr.0.x', 1), orderBy: [] })).toEqual([1]);
    expect(seqs({ filter: f.between('timestamp', T0 + MINUTE, T0 + 2 * MINUTE), orderBy: [] })).toEqual([
      2, 3, 4,
    ]);
    expect(seqs({ filter: MATCH_ALL, orderBy: [{ field: 'tags.k', direction: 'asc' }] })).toEqual([
      3, 2, 1, 4,
    ]);
    expect(seqs({ filter: MATCH_ALL, orderBy: [{ field: 'payload.x', direction: 'desc' }] })).toEqual([
      2, 4, 1, 3,
    ]);
    expect(
      seqs({
        filter: MATCH_ALL,
        orderBy: [
          { field: 'timestamp', direction: 'desc' },
          { field: 'payload.x', direction: 'asc' },
        ],
        offset: 1,
        limit: 2,
      }),
    ).toEqual([3, 4]);
    expect(
      oracle(events, { filter: f.eq('sequence', 4), orderBy: [], select: ['payload.o.x', 'tags.k'] }),
    ).toEqual([{ 'payload.o.x': 'a', 'tags.k': undefined }]);
  });
});

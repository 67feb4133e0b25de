import type { IndexKey } from '../../../indexes/index-keys.js';
import type { IndexAnalysis } from '../../../indexes/index-types.js';
import type { UserIndex } from './user-index.js';

const TOP_KEYS = 10;
const BUCKETS = 10;

/** Statistics of one index: one pass over its keys (O(keys log keys) for the order). */
export function analyzeUserIndex(index: UserIndex, rows: number): IndexAnalysis {
  const counts = [...index.keyCounts()];
  const entries = index.entries;
  const keys = index.distinctKeys;
  const top = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_KEYS)
    .map(([key, count]) => ({ key, rows: count }));
  const analysis: IndexAnalysis = {
    name: index.name,
    rows,
    entries,
    distinctKeys: keys,
    bytes: index.bytes,
    coverage: rows === 0 ? 0 : entries / rows,
    selectivity: rows === 0 || keys === 0 ? 0 : entries / keys / rows,
    topKeys: top,
  };
  if (index.definition.type === 'btree') analysis.histogram = equiDepth(counts, entries);
  return analysis;
}

/** Buckets of about entries / BUCKETS rows each, in key order; a key never spans two buckets. */
function equiDepth(counts: [IndexKey, number][], entries: number): NonNullable<IndexAnalysis['histogram']> {
  const target = Math.max(1, entries / BUCKETS);
  const buckets: NonNullable<IndexAnalysis['histogram']> = [];
  let current: (typeof buckets)[number] | undefined;
  for (const [key, count] of counts) {
    if (current === undefined) current = { from: key, to: key, rows: 0, keys: 0 };
    current.to = key;
    current.rows += count;
    current.keys++;
    if (current.rows >= target) {
      buckets.push(current);
      current = undefined;
    }
  }
  if (current !== undefined) buckets.push(current);
  return buckets;
}

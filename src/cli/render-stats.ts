import type { StoreStats } from '../index.js';
import { formatBytes, formatFixed, formatInt } from './format.js';
import { renderPairs, renderTable } from './table.js';

/** The human-readable form: a summary, then one table row per index. Shared with the demo. */
export function renderStats(stats: StoreStats, indent = ''): string {
  const pairs: [string, string][] = [
    ['events', formatInt(stats.events)],
    ['aggregates', formatInt(stats.aggregates)],
    ['types', formatInt(stats.types)],
    ['last sequence', formatInt(stats.lastSequence)],
  ];
  if (stats.storage) {
    const s = stats.storage;
    pairs.push(
      ['directory', s.dir],
      [
        'log',
        `${formatInt(s.segments)} segment${s.segments === 1 ? '' : 's'}, ${formatBytes(s.logBytes)}, fsync ${s.fsync}`,
      ],
      [
        'checkpoint',
        s.lastCheckpointSequence > 0 ? `at sequence ${formatInt(s.lastCheckpointSequence)}` : 'none yet',
      ],
    );
  }
  const m = stats.memory;
  pairs.push(
    ['memory', `rss ${formatBytes(m.rss)}, heap ${formatBytes(m.heapUsed)}`],
    [
      '  store',
      `columns ${formatBytes(m.columns)}, indexes ${formatBytes(m.indexes)}, ` +
        `dictionaries ${formatBytes(m.dictionaries)}, records ${formatBytes(m.records)}`,
    ],
  );
  const indexRows = Object.entries(stats.indexes).map(([name, index]) => [
    name,
    formatInt(index.keys),
    formatInt(index.entries),
    formatBytes(index.bytes),
    formatInt(index.lookups),
    index.lookups > 0 ? `${formatFixed(index.hitRate * 100, 1)}%` : '-',
  ]);
  const table =
    indexRows.length === 0
      ? `${indent}(no indexes)`
      : renderTable(
          [
            { header: 'index' },
            { header: 'keys', align: 'right' },
            { header: 'entries', align: 'right' },
            { header: 'bytes', align: 'right' },
            { header: 'lookups', align: 'right' },
            { header: 'hit rate', align: 'right' },
          ],
          indexRows,
          indent,
        );
  return `${renderPairs(pairs, indent)}\n\n${table}`;
}

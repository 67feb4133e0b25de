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
        (s.lastCheckpointSequence > 0 ? `at sequence ${formatInt(s.lastCheckpointSequence)}` : 'none yet') +
          (s.checkpointError === null ? '' : `; the last one failed: ${s.checkpointError}`),
      ],
    );
  }
  const r = stats.retention;
  const ages = Object.entries(r.types).map(([type, age]) => `${type} ${age}`);
  pairs.push([
    'retention',
    `maxAge ${r.maxAge}${ages.length > 0 ? ` (${ages.join(', ')})` : ''}` +
      `${r.maxEvents === null ? '' : `, maxEvents ${formatInt(r.maxEvents)}`}` +
      `${r.archive === null ? '' : `, archive ${r.archive.dir}`}`,
  ]);
  const c = stats.cleanup;
  pairs.push([
    'cleanup',
    c.lastRun === null
      ? `not run yet${c.pendingTombstoned > 0 ? `; ${formatInt(c.pendingTombstoned)} deleted events waiting` : ''}`
      : `${formatInt(c.runs)} run${c.runs === 1 ? '' : 's'}, last at ${c.lastRun.startedAt}: ` +
        `removed ${formatInt(c.lastRun.removed)}, archived ${formatInt(c.lastRun.archived)}, ` +
        `freed ${formatBytes(c.lastRun.bytesFreed)}`,
  ]);
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

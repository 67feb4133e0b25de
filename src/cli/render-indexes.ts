import type { FilterNode, IndexAnalysis, IndexInfo, IndexKey, IndexUsage } from '../index.js';
import { assertNever } from '../support/assert-never.js';
import { formatBytes, formatFixed, formatInt, plural } from './format.js';
import { renderPairs, renderTable } from './table.js';

const OPERATORS = { eq: '=', ne: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/** A partial index's `where` in one readable line: `type = "ORDER.PLACED" and payload.total > 100`. */
export function describeFilter(node: FilterNode): string {
  const value = (v: unknown): string => JSON.stringify(v);
  switch (node.kind) {
    case 'all':
      return 'all';
    case 'in':
      return `${node.field} in (${node.values.map(value).join(', ')})`;
    case 'between':
      return `${node.field} between ${value(node.low)} and ${value(node.high)}`;
    case 'exists':
      return `${node.field} exists`;
    case 'prefix':
      return `${node.field} starts with ${value(node.value)}`;
    case 'and':
    case 'or':
      return node.filters
        .map((child) =>
          child.kind === 'and' || child.kind === 'or' ? `(${describeFilter(child)})` : describeFilter(child),
        )
        .join(` ${node.kind} `);
    case 'not':
      return `not (${describeFilter(node.filter)})`;
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return `${node.field} ${OPERATORS[node.kind]} ${value(node.value)}`;
    default:
      return assertNever(node);
  }
}

/** A key as its values: `"openai"`, or `("t1", 250)` for a composite index. */
export function formatKey(key: IndexKey): string {
  const parts = key.map((part) => JSON.stringify(part));
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(', ')})`;
}

/** `btree on tags.tenant, payload.total, unique, where type = "X"` */
function describeDefinition(info: IndexInfo): string {
  const parts = [`${info.type} on ${info.fields.join(', ')}`];
  if (info.unique) parts.push('unique');
  if (info.where) parts.push(`where ${describeFilter(info.where)}`);
  return parts.join(', ');
}

function percent(share: number): string {
  return `${formatFixed(share * 100, 1)}%`;
}

/** What `index create` prints once the index is built. */
export function renderCreatedIndex(info: IndexInfo, rows: number, elapsed: string): string {
  return [
    `created index ${info.name}: ${describeDefinition(info)}`,
    renderPairs(
      [
        [
          'entries',
          `${formatInt(info.entries)} (${rows === 0 ? '-' : percent(info.entries / rows)} of events)`,
        ],
        ['distinct keys', formatInt(info.distinctKeys)],
        ['bytes', formatBytes(info.bytes)],
        ['built in', elapsed],
      ],
      '  ',
    ),
  ].join('\n');
}

/** Every index, built-in ones first, then the total size. */
export function renderIndexList(indexes: readonly IndexInfo[], totalBytes: number): string {
  const table = renderTable(
    [
      { header: 'index' },
      { header: 'kind' },
      { header: 'type' },
      { header: 'fields' },
      { header: 'unique' },
      { header: 'state' },
      { header: 'entries', align: 'right' },
      { header: 'keys', align: 'right' },
      { header: 'bytes', align: 'right' },
      { header: 'where' },
    ],
    indexes.map((index) => [
      index.name,
      index.builtIn ? 'built-in' : 'user',
      index.type,
      index.fields.join(', '),
      index.unique ? 'yes' : 'no',
      index.state,
      formatInt(index.entries),
      formatInt(index.distinctKeys),
      formatBytes(index.bytes),
      index.where ? describeFilter(index.where) : '',
    ]),
  );
  const user = indexes.filter((index) => !index.builtIn).length;
  return `${table}\n\n${plural(indexes.length, 'index', 'indexes')} (${formatInt(user)} user-defined), ${formatBytes(totalBytes)} in all`;
}

/** `index analyze`: the numbers a planner weighs, the heaviest keys and (btree) the key distribution. */
export function renderIndexAnalysis(analysis: IndexAnalysis, info: IndexInfo | undefined): string {
  const lines = [
    `index ${analysis.name}${info ? `: ${describeDefinition(info)}` : ''}`,
    renderPairs(
      [
        ['events', formatInt(analysis.rows)],
        ['entries', formatInt(analysis.entries)],
        ['distinct keys', formatInt(analysis.distinctKeys)],
        ['bytes', formatBytes(analysis.bytes)],
        ['coverage', `${percent(analysis.coverage)} of events are in the index`],
        [
          'selectivity',
          `${(analysis.selectivity * 100).toPrecision(3)}% of events per key on average (lower is more selective)`,
        ],
      ],
      '  ',
    ),
  ];
  if (analysis.topKeys.length > 0) {
    lines.push(
      '',
      `top keys (${plural(analysis.topKeys.length, 'key')} with the most events):`,
      renderTable(
        [{ header: 'key' }, { header: 'events', align: 'right' }],
        analysis.topKeys.map((top) => [formatKey(top.key), formatInt(top.rows)]),
        '  ',
      ),
    );
  }
  if (analysis.histogram && analysis.histogram.length > 0) {
    lines.push(
      '',
      'histogram (buckets of about equal events, in key order):',
      renderTable(
        [
          { header: 'from' },
          { header: 'to' },
          { header: 'keys', align: 'right' },
          { header: 'events', align: 'right' },
        ],
        analysis.histogram.map((bucket) => [
          formatKey(bucket.from),
          formatKey(bucket.to),
          formatInt(bucket.keys),
          formatInt(bucket.rows),
        ]),
        '  ',
      ),
    );
  }
  return lines.join('\n');
}

/** `index usage`: how often the planner picked each index. */
export function renderIndexUsage(usage: readonly IndexUsage[]): string {
  return renderTable(
    [{ header: 'index' }, { header: 'kind' }, { header: 'uses', align: 'right' }, { header: 'last used' }],
    usage.map((use) => [
      use.name,
      use.builtIn ? 'built-in' : 'user',
      formatInt(use.uses),
      use.lastUsed === null ? 'never' : use.lastUsed.toISOString(),
    ]),
  );
}

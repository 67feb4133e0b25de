import type { Explanation } from '../index.js';
import { formatDuration, formatFixed, formatInt } from './format.js';
import { renderPairs, renderTable } from './table.js';

/** The plan tree as the store renders it, then the numbers behind the choice and every path weighed. */
export function renderExplanation(explanation: Explanation): string {
  const pairs: [string, string][] = [
    ['estimated cost', formatFixed(explanation.estimatedCost, 2)],
    ['estimated rows', formatInt(explanation.estimatedRows)],
    [
      'indexes used',
      explanation.indexesUsed.length === 0 ? 'none (full scan)' : explanation.indexesUsed.join(', '),
    ],
  ];
  if (explanation.executionTimeMs !== undefined) {
    pairs.push(['execution time', formatDuration(explanation.executionTimeMs)]);
  }
  // considered[0] is the path the plan uses: cheapest, or first after the hints.
  const considered = renderTable(
    [
      { header: ' ' },
      { header: 'index' },
      { header: 'condition' },
      { header: 'est. rows', align: 'right' },
      { header: 'cost', align: 'right' },
    ],
    explanation.considered.map((path, i) => [
      i === 0 ? '*' : '',
      path.index,
      path.condition,
      formatInt(path.estimatedRows),
      formatFixed(path.cost, 2),
    ]),
    '  ',
  );
  return [
    explanation.text,
    '',
    renderPairs(pairs),
    '',
    'access paths considered (* = chosen):',
    considered,
  ].join('\n');
}

import type { RepairReport, VerifyProblem, VerifyReport } from '../index.js';
import { formatInt, plural } from './format.js';
import { renderPairs, renderTable } from './table.js';

/** What each problem means for the user, in one line. */
const CONSEQUENCE: Record<VerifyProblem['kind'], string> = {
  'torn-tail': 'an interrupted last write; opening the store drops it',
  'corrupt-frame': 'damaged data before the end of the log; the store refuses to open',
  'sequence-gap': 'sequences do not follow on; the store refuses to open',
  'bad-checkpoint': 'the index checkpoint is damaged; opening rebuilds the indexes from the log',
  'lost-events':
    'the log ends before events a durable record proves were written (acknowledged events are lost); the store refuses to open',
  'corrupt-file': 'a file the store relies on is damaged; the store refuses to open',
};

export function renderProblems(problems: readonly VerifyProblem[]): string {
  return renderTable(
    [{ header: 'problem' }, { header: 'file' }, { header: 'offset', align: 'right' }, { header: 'detail' }],
    problems.map((p) => [p.kind, p.file, formatInt(p.offset), p.detail]),
    '  ',
  );
}

export function renderVerifyReport(report: VerifyReport): string {
  const verdict = report.ok
    ? report.problems.length === 0
      ? 'OK'
      : 'OK (opens, with the fix-ups below)'
    : 'DAMAGED: the store will not open';
  const checkpoint = report.checkpoint
    ? `at sequence ${formatInt(report.checkpoint.sequence)}, ${report.checkpoint.valid ? 'valid' : 'INVALID'}`
    : 'none';
  const lines = [
    `verify ${report.dir}: ${verdict}`,
    renderPairs(
      [
        ['segments', formatInt(report.segments)],
        ['frames', formatInt(report.frames)],
        ['events', formatInt(report.events)],
        ['last sequence', formatInt(report.lastSequence)],
        ['checkpoint', checkpoint],
      ],
      '  ',
    ),
  ];
  if (report.problems.length > 0) {
    lines.push('', `${plural(report.problems.length, 'problem')}:`, renderProblems(report.problems));
    for (const kind of new Set(report.problems.map((p) => p.kind)))
      lines.push(`  ${kind}: ${CONSEQUENCE[kind]}`);
  }
  if (!report.ok) {
    lines.push('', `Run \`tamma-events repair --dir ${report.dir}\` to truncate the log before the damage.`);
  }
  return lines.join('\n');
}

export function renderRepairReport(report: RepairReport): string {
  const lines = [`repair ${report.dir}:`];
  if (report.truncated.length > 0) {
    lines.push(
      renderTable(
        [
          { header: 'truncated file' },
          { header: 'at offset', align: 'right' },
          { header: 'bytes dropped', align: 'right' },
          { header: 'events dropped', align: 'right' },
          { header: 'first sequence dropped', align: 'right' },
        ],
        report.truncated.map((t) => [
          t.file,
          formatInt(t.offset),
          formatInt(t.bytesDropped),
          formatInt(t.eventsDropped),
          t.firstSequenceDropped === null ? '-' : formatInt(t.firstSequenceDropped),
        ]),
        '  ',
      ),
    );
  }
  for (const file of report.removedFiles) lines.push(`  removed ${file} (it followed the damage)`);
  if (report.checkpointDiscarded)
    lines.push('  discarded the checkpoint; the next open rebuilds the indexes from the log');
  const lost = report.lostEvents;
  if (lost !== null) {
    lines.push(
      `  LOST ${plural(lost.events, 'acknowledged event')}: sequences ${formatInt(lost.firstSequence)}..${formatInt(lost.lastSequence)} ` +
        `(${lost.provenBy} proves they were written; the log ended at ${lost.file} offset ${formatInt(lost.offset)}); ` +
        'their sequences stay unused',
    );
  }
  if (
    report.truncated.length === 0 &&
    report.removedFiles.length === 0 &&
    !report.checkpointDiscarded &&
    lost === null
  ) {
    lines.push('  nothing to repair');
  }
  lines.push(`  kept ${plural(report.eventsKept, 'event')}, last sequence ${formatInt(report.lastSequence)}`);
  return lines.join('\n');
}

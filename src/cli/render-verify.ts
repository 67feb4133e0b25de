import type { RepairReport, VerifyProblem, VerifyReport } from '../index.js';
import { formatInt, plural } from './format.js';
import { renderPairs, renderTable } from './table.js';

/** What each problem means for the user, in one line. */
const CONSEQUENCE: Record<VerifyProblem['kind'], string> = {
  'torn-tail': 'an interrupted last write; opening the store drops it',
  'corrupt-frame': 'damaged data before the end of the log; the store refuses to open',
  'sequence-gap': 'sequences do not follow on; the store refuses to open',
  'bad-checkpoint': 'the index checkpoint is damaged; opening rebuilds the indexes from the log',
  'bad-log-start': 'log/start.json is damaged or disagrees with the segments; the store refuses to open',
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
    lines.push(
      '',
      `Run \`tamma-events repair --dir ${report.dir}\` to move the damage aside (every intact frame is kept).`,
    );
  }
  return lines.join('\n');
}

export function renderRepairReport(report: RepairReport): string {
  const lines = [`repair ${report.dir}:`];
  if (report.dropped.length > 0) {
    const sequences = (first: number | null, last: number | null): string =>
      first === null && last === null
        ? '-'
        : `${first === null ? '?' : formatInt(first)}..${last === null ? '?' : formatInt(last)}`;
    lines.push(
      renderTable(
        [
          { header: 'dropped' },
          { header: 'file' },
          { header: 'at offset', align: 'right' },
          { header: 'bytes', align: 'right' },
          { header: 'sequences (now a hole)', align: 'right' },
          { header: 'moved to' },
        ],
        report.dropped.map((d) => [
          d.kind,
          d.file,
          formatInt(d.offset),
          formatInt(d.bytes),
          sequences(d.firstSequence, d.lastSequence),
          d.quarantineFile ?? '-',
        ]),
        '  ',
      ),
    );
    for (const d of report.dropped) lines.push(`  ${d.kind} at ${d.file}:${d.offset}: ${d.detail}`);
  }
  for (const file of report.removedFiles) lines.push(`  removed ${file}`);
  if (report.logStart !== null) {
    const { rebuilt, reason } = report.logStart;
    lines.push(
      `  rebuilt log/start.json from the segments (first sequence ${formatInt(rebuilt.firstSequence)}): ${reason}`,
    );
  }
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
    report.dropped.length === 0 &&
    report.removedFiles.length === 0 &&
    report.logStart === null &&
    !report.checkpointDiscarded &&
    lost === null
  ) {
    lines.push('  nothing to repair');
  }
  lines.push(`  kept ${plural(report.eventsKept, 'event')}, last sequence ${formatInt(report.lastSequence)}`);
  return lines.join('\n');
}

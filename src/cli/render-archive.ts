import type { ArchiveEntry, ArchiveReport } from '../storage/embedded/retention/archive.js';
import { formatBytes, formatInt, plural } from './format.js';
import { renderPairs, renderTable } from './table.js';

/** Totals of an archive's manifest, for `archive list` (text and JSON). */
export interface ArchiveListing {
  dir: string;
  files: ArchiveEntry[];
  events: number;
  bytes: number;
}

export function listArchive(dir: string, files: ArchiveEntry[]): ArchiveListing {
  return {
    dir,
    files,
    events: files.reduce((sum, entry) => sum + entry.events, 0),
    bytes: files.reduce((sum, entry) => sum + entry.bytes, 0),
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function renderArchiveList(listing: ArchiveListing): string {
  const head = `archive ${listing.dir}: ${plural(listing.files.length, 'file')}, ${plural(listing.events, 'event')}, ${formatBytes(listing.bytes)}`;
  if (listing.files.length === 0) return `${head}\n  nothing archived yet`;
  const table = renderTable(
    [
      { header: 'file' },
      { header: 'sequences' },
      { header: 'events', align: 'right' },
      { header: 'time range' },
      { header: 'bytes', align: 'right' },
    ],
    listing.files.map((entry) => [
      entry.file,
      `${formatInt(entry.firstSequence)}-${formatInt(entry.lastSequence)}`,
      formatInt(entry.events),
      `${iso(entry.minTimestamp)} .. ${iso(entry.maxTimestamp)}`,
      formatBytes(entry.bytes),
    ]),
    '  ',
  );
  return `${head}\n${table}`;
}

export function renderArchiveReport(dir: string, report: ArchiveReport): string {
  const lines = [
    `verify ${dir}: ${report.ok ? 'OK' : 'DAMAGED'}`,
    renderPairs(
      [
        ['files', formatInt(report.files)],
        ['events', `${formatInt(report.events)}${report.ok ? '' : ' (in the intact files)'}`],
      ],
      '  ',
    ),
  ];
  if (report.problems.length > 0) {
    lines.push(
      '',
      `${plural(report.problems.length, 'problem')}:`,
      renderTable(
        [{ header: 'file' }, { header: 'problem' }],
        report.problems.map((p) => [p.file, p.detail]),
        '  ',
      ),
      '',
      'The events of a damaged or missing file cannot be read from this archive; restore the file from a copy.',
    );
  }
  return lines.join('\n');
}

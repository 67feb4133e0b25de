import { createWriteStream, existsSync, openSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { toEpochMs } from '../../events/validate.js';
import { openEventStore } from '../../index.js';
import {
  MANIFEST,
  readManifest,
  verifyArchive,
  type ArchiveEntry,
} from '../../storage/embedded/retention/archive.js';
import {
  filesWithin,
  readArchivedEvents,
  type ArchiveBounds,
} from '../../storage/embedded/retention/archive-reader.js';
import type { CliContext } from '../context.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { eventToJsonLine } from '../event-json.js';
import { formatBytes, formatDuration, formatRate, plural } from '../format.js';
import { printErr, writeWithBackpressure } from '../io.js';
import { integerArg, timeArg } from '../option-parsers.js';
import { createProgress } from '../progress.js';
import { listArchive, renderArchiveList, renderArchiveReport } from '../render-archive.js';
import { renderPairs } from '../table.js';

interface JsonOption {
  json?: boolean;
}

interface RestoreOptions {
  ndjson?: string;
  into?: string;
  fromSequence?: number;
  toSequence?: number;
  from?: number | string;
  to?: number | string;
}

/** Output is written in chunks of about this many characters, each with backpressure. */
const CHUNK = 256 * 1024;

/**
 * Archive commands only read: a mistyped path must say so rather than report an empty archive.
 * An archive is a directory with a manifest (written with its first file).
 */
function requireArchive(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`archive directory ${dir} does not exist; check the path`);
  }
  if (!existsSync(join(dir, MANIFEST))) {
    throw new UsageError(`${dir} is not an archive (no ${MANIFEST} in it); check the path`);
  }
}

async function print(ctx: CliContext, json: boolean | undefined, value: unknown, text: () => string) {
  await writeWithBackpressure(ctx.io.stdout, `${json ? JSON.stringify(value, null, 2) : text()}\n`);
}

export function registerArchive(program: Command, ctx: CliContext): void {
  const archive = program
    .command('archive')
    .summary('list, verify and restore archived events')
    .description(
      'Read an archive directory: the cold storage events move to when they leave a store (retention ' +
        '`archive: { dir }`). An archive is a manifest.json and gzip files of log frames, each file and ' +
        'frame checksummed. These commands never change it.',
    );

  archive
    .command('list')
    .summary('list the files of an archive')
    .description(
      'List the files the manifest of an archive names, in sequence order: sequence range, events, time ' +
        'range and compressed size. Sequences may have gaps: a range need not be full.',
    )
    .argument('<archiveDir>', 'archive directory')
    .option('--json', 'print the manifest entries and totals as JSON')
    .action(async (dir: string, options: JsonOption) => {
      requireArchive(dir);
      const listing = listArchive(dir, readManifest(dir));
      await print(ctx, options.json, listing, () => renderArchiveList(listing));
    });

  archive
    .command('verify')
    .summary('check every file of an archive')
    .description(
      'Read every file the manifest names and check it against its entry: size and CRC-32 of the file, ' +
        "every frame's checksum, sequences, event count and time range. Exits 1 when anything is damaged " +
        'or missing, naming the file and the problem.',
    )
    .argument('<archiveDir>', 'archive directory')
    .option('--json', 'print the ArchiveReport object as JSON')
    .action(async (dir: string, options: JsonOption) => {
      requireArchive(dir);
      const report = verifyArchive(dir);
      await print(ctx, options.json, report, () => renderArchiveReport(dir, report));
      if (!report.ok) ctx.exitCode = EXIT_FAILURE;
    });

  archive
    .command('restore')
    .summary('restore archived events into a store, or as NDJSON')
    .description(
      'With --into, put the archived events back into a store (created if the directory is new) with their ' +
        'sequence numbers and ids: after its last sequence, or between its live events (the log is then ' +
        'rebuilt, crash-safely); events it holds already and events of deleted streams are left out. The ' +
        'store must not be open elsewhere. With --ndjson, ' +
        'write them as NDJSON, one StoredEvent per line in sequence order, in the shape `query` prints (so ' +
        '`ingest` takes it). Only the files whose manifest ranges overlap the bounds are read, and each is ' +
        'checked whole first: a damaged file stops the restore (exit 1) and a partial output file is removed. ' +
        'Progress and a summary go to stderr.',
    )
    .argument('<archiveDir>', 'archive directory')
    .option('--ndjson <file>', 'output file (must not exist yet), or - for stdout')
    .option('--into <storeDir>', 'a store directory to restore into (sequence numbers and ids kept)')
    .option('--from-sequence <n>', 'first sequence to restore (inclusive)', integerArg(0))
    .option('--to-sequence <n>', 'last sequence to restore (inclusive)', integerArg(0))
    .option('--from <time>', 'events at or after this time (ISO-8601 or epoch ms)', timeArg)
    .option('--to <time>', 'events before this time (ISO-8601 or epoch ms)', timeArg)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events archive restore ./archive --into ./restored',
        '  $ tamma-events archive restore ./archive --into ./events --from-sequence 5000 --to-sequence 9999',
        '  $ tamma-events archive restore ./archive --ndjson events.ndjson',
        '  $ tamma-events archive restore ./archive --ndjson - --from 2024-01-01 --to 2024-02-01 | gzip > jan.ndjson.gz',
        '  $ tamma-events archive restore ./archive --ndjson - --from-sequence 1000 | tamma-events ingest --dir ./copy -',
      ].join('\n'),
    )
    .action(async (dir: string, options: RestoreOptions) => {
      if ((options.ndjson === undefined) === (options.into === undefined)) {
        throw new UsageError('give exactly one of --into <storeDir> and --ndjson <file|->');
      }
      if (options.into !== undefined) await restoreInto(dir, options.into, options, ctx);
      else await restore(dir, options, ctx);
    });
}

function boundsOf(options: RestoreOptions): ArchiveBounds {
  const bounds: ArchiveBounds = {};
  if (options.fromSequence !== undefined) bounds.fromSequence = options.fromSequence;
  if (options.toSequence !== undefined) bounds.toSequence = options.toSequence;
  if (options.from !== undefined) bounds.from = toEpochMs(options.from, '--from');
  if (options.to !== undefined) bounds.to = toEpochMs(options.to, '--to');
  if ((bounds.toSequence ?? Infinity) < (bounds.fromSequence ?? 0)) {
    throw new UsageError(
      `--to-sequence ${bounds.toSequence} is below --from-sequence ${bounds.fromSequence}`,
    );
  }
  if ((bounds.to ?? Infinity) < (bounds.from ?? -Infinity)) {
    throw new UsageError(`--to ${String(options.to)} is before --from ${String(options.from)}`);
  }
  return bounds;
}

interface Output {
  stream: Writable;
  /** The file we created, removed again when the restore fails; undefined for stdout. */
  path: string | undefined;
}

function openOutput(target: string, ctx: CliContext): Output {
  if (target === '-') return { stream: ctx.io.stdout, path: undefined };
  if (existsSync(target)) {
    throw new UsageError(
      `${target} already exists; restore does not overwrite: remove it or pick another name`,
    );
  }
  let fd: number;
  try {
    fd = openSync(target, 'wx');
  } catch (error) {
    throw new UsageError(`cannot create ${target}: ${(error as Error).message}`);
  }
  return { stream: createWriteStream('', { fd }), path: target };
}

function finish(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

async function restore(dir: string, options: RestoreOptions, ctx: CliContext): Promise<void> {
  requireArchive(dir);
  const bounds = boundsOf(options);
  const all = readManifest(dir);
  const files: ArchiveEntry[] = filesWithin(all, {
    fromSequence: bounds.fromSequence ?? -Infinity,
    toSequence: bounds.toSequence ?? Infinity,
    from: bounds.from ?? -Infinity,
    to: bounds.to ?? Infinity,
  });
  const totalBytes = files.reduce((sum, entry) => sum + entry.bytes, 0);
  const output = openOutput(options.ndjson as string, ctx);
  const progress = createProgress(ctx.io, 'restore', totalBytes);
  const started = performance.now();
  let written = 0;
  let bytesRead = 0;
  let filesRead = 0;
  let text = '';
  try {
    const events = readArchivedEvents(dir, {
      ...bounds,
      onFile: (entry) => {
        progress.update(bytesRead, written);
        bytesRead += entry.bytes;
        filesRead++;
      },
    });
    for (const event of events) {
      text += eventToJsonLine(event);
      written++;
      if (text.length >= CHUNK) {
        await writeWithBackpressure(output.stream, text);
        text = '';
      }
    }
    if (text !== '') await writeWithBackpressure(output.stream, text);
    progress.update(bytesRead, written);
    if (output.path !== undefined) await finish(output.stream as WriteStream);
  } catch (error) {
    progress.stop();
    // On stdout, everything before the damaged file goes out, as it would have unbuffered; a
    // file is removed whole, so nothing is left that looks like a complete restore.
    if (output.path === undefined && text !== '') {
      await writeWithBackpressure(output.stream, text).catch(() => undefined);
    }
    if (output.path !== undefined) {
      output.stream.destroy();
      rmSync(output.path, { force: true });
      printErr(ctx.io, `removed the partial output ${output.path}`);
    }
    throw error;
  }
  progress.stop();
  const elapsed = performance.now() - started;
  const summary: [string, string][] = [
    ['restored', `${plural(written, 'event')} from ${plural(filesRead, 'file')} (of ${all.length})`],
    [
      'elapsed',
      `${formatDuration(elapsed)} (${formatRate(written, elapsed, 'events')}, ${formatBytes(bytesRead)} read)`,
    ],
    ['written to', output.path ?? 'stdout'],
  ];
  ctx.io.stderr.write(`${renderPairs(summary)}\n`);
}

/** `--into`: the archived events back into a store, sequence numbers and ids kept. */
async function restoreInto(
  dir: string,
  into: string,
  options: RestoreOptions,
  ctx: CliContext,
): Promise<void> {
  requireArchive(dir);
  if (options.from !== undefined || options.to !== undefined) {
    throw new UsageError('--into restores by sequence: use --from-sequence/--to-sequence, not --from/--to');
  }
  const bounds = boundsOf(options);
  const started = performance.now();
  const store = await openEventStore({ dir: into });
  let restored;
  try {
    restored = await store.restoreArchive(dir, {
      ...(bounds.fromSequence === undefined ? {} : { fromSequence: bounds.fromSequence }),
      ...(bounds.toSequence === undefined ? {} : { toSequence: bounds.toSequence }),
      onProgress: ({ phase, files, filesRead, events, totalEvents }) => {
        if (!ctx.io.isTTY) return;
        ctx.io.stderr.write(
          phase === 'reading'
            ? `\rread ${filesRead}/${files} files`
            : `\rrebuilding the log: ${events}/${totalEvents} events   `,
        );
      },
    });
  } finally {
    await store.close();
  }
  if (ctx.io.isTTY) ctx.io.stderr.write('\n');
  const summary: [string, string][] = [
    ['restored', `${plural(restored.restored, 'event')} from ${plural(restored.files, 'file')}`],
    [
      'sequences',
      restored.firstSequence === null ? 'none' : `${restored.firstSequence}-${restored.lastSequence}`,
    ],
    ...(restored.alreadyLive > 0
      ? [['left out', `${plural(restored.alreadyLive, 'event')} the store holds already`] as [string, string]]
      : []),
    ...(restored.ofDeletedStreams > 0
      ? [['left out', `${plural(restored.ofDeletedStreams, 'event')} of deleted streams`] as [string, string]]
      : []),
    ...(restored.hiddenByRetention > 0
      ? [
          [
            'hidden',
            `${plural(restored.hiddenByRetention, 'restored event')} past the store's retention: reads leave ` +
              'them out, and the next cleanup removes them again (the archive keeps its copies); lengthen ' +
              'maxAge to keep them',
          ] as [string, string],
        ]
      : []),
    ['elapsed', formatDuration(performance.now() - started)],
    ['into', into],
  ];
  ctx.io.stderr.write(`${renderPairs(summary)}\n`);
}

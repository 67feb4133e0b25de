import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import { openEventStore, type EventStore, type FsyncPolicy, type OpenOptions } from '../../index.js';
import { resolveFutureTolerance } from '../../events/clock-skew.js';
import { formatBadLine, type BadLine } from '../bad-line.js';
import type { CliContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { formatBytes, formatDuration, formatInt, formatRate, plural } from '../format.js';
import { IngestWriter, type PendingBatch } from '../ingest-writer.js';
import { printErr } from '../io.js';
import { readNdjsonLines, type ByteCounter } from '../ndjson-lines.js';
import { choiceArg, integerArg } from '../option-parsers.js';
import { createProgress } from '../progress.js';
import { requireStoreOrEmptyDir } from '../store-dir.js';
import { renderPairs } from '../table.js';

interface IngestOptions {
  dir: string;
  batchSize: number;
  skipInvalid?: boolean;
  fsync?: FsyncPolicy;
  fromLine: number;
  futureTolerance?: string | number | false;
}

/** Beyond this many, bad lines are counted but not printed: a wrong file should not flood the terminal. */
const MAX_REPORTED = 100;

interface Input {
  stream: Readable;
  size: number | undefined;
  /** Our own file stream is closed when we stop early; stdin belongs to the caller. */
  owned: boolean;
}

function openInput(file: string, ctx: CliContext): Input {
  if (file === '-') {
    // Without a pipe, `-` waits for typed input, which looks like a hang unless we say so.
    if ((ctx.io.stdin as { isTTY?: boolean }).isTTY) {
      printErr(ctx.io, 'reading NDJSON from the terminal; end with Ctrl-D');
    }
    return { stream: ctx.io.stdin, size: undefined, owned: false };
  }
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new UsageError(`${file} is not a file; pass an NDJSON file or - for stdin`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return { stream: createReadStream(file), size, owned: true };
}

/**
 * `--future-tolerance`: a duration the store takes (`5m`, `2h`, milliseconds) or `off`. Checked here,
 * so a typo is a usage error before any line is read.
 */
function futureToleranceArg(value: string): string | number | false {
  const trimmed = value.trim();
  if (trimmed === 'off') return false;
  const tolerance = /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
  try {
    resolveFutureTolerance(tolerance);
  } catch {
    throw new InvalidArgumentError('expected a duration like 5m, 2h or 7d, milliseconds, or off.');
  }
  return tolerance;
}

function emptyBatch(): PendingBatch {
  return { events: [], lines: [], unparsable: [] };
}

function parseLine(text: string): { event: unknown } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON (${(error as Error).message})` };
  }
  return { event: withoutStoredFields(value) };
}

/**
 * `query` prints StoredEvents; dropping the two fields a NewEvent lacks lets its output be ingested
 * into another store (`query | ingest -`), which assigns its own sequences and versions. Every other
 * field is left for the store to validate.
 */
function withoutStoredFields(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  if (!('sequence' in value) && !('version' in value)) return value;
  const { sequence: _sequence, version: _version, ...event } = value as Record<string, unknown>;
  return event;
}

export function registerIngest(program: Command, ctx: CliContext): void {
  program
    .command('ingest')
    .summary('append NDJSON events to a store')
    .description(
      'Append events from an NDJSON file (one NewEvent JSON object per line; blank lines are ignored) to the ' +
        'store in --dir, creating the store if needed. Each batch is one atomic append: a batch with a bad line ' +
        'is not written at all. Without --skip-invalid, ingest stops at the first such batch (exit 2) after ' +
        'reporting all of its bad lines; earlier batches stay written.',
    )
    .argument('<file>', 'NDJSON file to read, or - for stdin')
    .requiredOption('--dir <path>', 'store directory (created if missing)')
    .option('--batch-size <n>', 'events per atomic append', integerArg(1), 1000)
    .option('--skip-invalid', 'drop bad lines (reported on stderr) and write the rest')
    .option(
      '--fsync <policy>',
      'durability of each append: always, batch or never',
      choiceArg(['always', 'batch', 'never'] as const),
    )
    .option('--from-line <n>', 'first input line to read (resume after a rejected batch)', integerArg(1), 1)
    .option(
      '--future-tolerance <duration>',
      "how far ahead of this machine's clock an event's timestamp may be (default 5m), or off",
      futureToleranceArg,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events ingest --dir ./data events.ndjson',
        '  $ gunzip -c events.ndjson.gz | tamma-events ingest --dir ./data --skip-invalid -',
        '  $ tamma-events query --dir ./old | tamma-events ingest --dir ./copy -',
        '',
        'A line looks like:',
        '  {"aggregateId":"issue-42","type":"WORKFLOW.STARTED","tags":{"provider":"anthropic"},"payload":{"step":1}}',
        'Lines printed by `query` are accepted too: their sequence and version are dropped, and the store',
        'assigns new ones.',
        '',
        "A line timestamped more than 5 minutes ahead of this machine's clock is refused like any bad line",
        "(the producer's clock is likely wrong); --future-tolerance 2h or --future-tolerance off lets it in.",
      ].join('\n'),
    )
    .action(async (file: string, options: IngestOptions) => {
      await ingest(file, options, ctx);
    });
}

async function ingest(file: string, options: IngestOptions, ctx: CliContext): Promise<void> {
  const { io } = ctx;
  requireStoreOrEmptyDir(options.dir);
  const input = openInput(file, ctx);
  let store: EventStore;
  try {
    const open: OpenOptions = { dir: options.dir };
    if (options.fsync) open.fsync = options.fsync;
    if (options.futureTolerance !== undefined) open.futureTolerance = options.futureTolerance;
    store = await openEventStore(open);
  } catch (error) {
    if (input.owned) input.stream.destroy();
    throw error;
  }
  const writer = new IngestWriter(store, options.skipInvalid === true);
  const progress = createProgress(io, 'ingest', input.size);
  const counter: ByteCounter = { bytes: 0 };
  const started = performance.now();
  let written = 0;
  let alreadyStored = 0;
  let skipped = 0;
  let batches = 0;
  let reported = 0;
  let batch = emptyBatch();
  let batchFirstLine = 0;
  let batchLastLine = 0;
  let failed: BadLine[] | undefined;
  let lastSequence = 0;

  const report = (bad: readonly BadLine[]): void => {
    for (const entry of bad) {
      if (reported++ < MAX_REPORTED) progress.log(formatBadLine(entry));
    }
  };
  // Returns false when the batch was rejected and ingest must stop.
  const commit = async (): Promise<boolean> => {
    if (batch.events.length + batch.unparsable.length === 0) return true;
    const result = await writer.commit(batch);
    batch = emptyBatch();
    report(result.bad);
    if (!options.skipInvalid && result.bad.length > 0) {
      failed = result.bad;
      return false;
    }
    written += result.written;
    alreadyStored += result.alreadyStored;
    skipped += result.bad.length;
    if (result.written > 0) batches++;
    progress.update(counter.bytes, written);
    return true;
  };

  try {
    for await (const line of readNdjsonLines(input.stream, counter)) {
      if (line.number < options.fromLine) continue;
      if (batch.events.length + batch.unparsable.length === 0) batchFirstLine = line.number;
      batchLastLine = line.number;
      const parsed = parseLine(line.text);
      if ('error' in parsed) {
        batch.unparsable.push({ line: line.number, message: parsed.error });
      } else {
        batch.events.push(parsed.event);
        batch.lines.push(line.number);
      }
      if (batch.events.length + batch.unparsable.length >= options.batchSize && !(await commit())) break;
    }
    if (!failed) await commit();
    lastSequence = store.stats().lastSequence;
  } finally {
    progress.stop();
    if (input.owned) input.stream.destroy();
    await store.close();
  }

  const elapsed = performance.now() - started;
  if (reported > MAX_REPORTED)
    io.stderr.write(`... and ${formatInt(reported - MAX_REPORTED)} more bad lines not shown\n`);
  const summary: [string, string][] = [
    ['written', `${plural(written, 'event')} in ${plural(batches, 'batch', 'batches')}`],
    ...(alreadyStored > 0
      ? ([
          ['already stored', `${plural(alreadyStored, 'event')} (same id and content; not written again)`],
        ] as [string, string][])
      : []),
    ['skipped', plural(skipped, 'bad line')],
    [
      'elapsed',
      `${formatDuration(elapsed)} (${formatRate(written, elapsed, 'events')}, ${formatBytes(counter.bytes)} read)`,
    ],
    ['last seq', formatInt(lastSequence)],
  ];
  io.stderr.write(`${renderPairs(summary)}\n`);

  if (failed) {
    const first = failed[0] as BadLine;
    const kept = written > 0 ? `; the ${plural(written, 'event')} of earlier batches were` : '';
    const rerun = batchFirstLine > 1 ? `re-run with --from-line ${batchFirstLine}` : 're-run';
    throw new InputError(
      `${plural(failed.length, 'bad line')} in lines ${batchFirstLine}-${batchLastLine} (first: line ${first.line}): ` +
        `nothing of that batch was written${kept}. Fix the bad lines and ${rerun}, or pass --skip-invalid to drop them.`,
    );
  }
}

/**
 * Durability under kill -9: a child process (writer.mjs, running the built library) appends batches
 * and prints each acknowledged append; the parent kills it with SIGKILL at some point, mid-append,
 * then reopens the store and checks that every acknowledged event is there, that no batch is
 * partly visible, that sequences are gap-free, and that appending goes on.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  openEventStore,
  repairStore,
  verifyStore,
  StoreLockedError,
  type FsyncPolicy,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, rejection, removeDir, sequences, tempDir } from '../support/helpers.js';
import { randomInt, seededRandom } from '../support/random.js';
import { ROOT } from '../support/child-paths.js';

const WRITER = fileURLToPath(new URL('./writer.mjs', import.meta.url));

interface WriterConfig {
  dir: string;
  fsync: FsyncPolicy;
  segmentSize?: number;
  checkpointEvery?: number;
  firstBatch: number;
  seed: number;
  /** Close cleanly after this many batches instead of waiting to be killed. */
  stopAfter?: number;
}

interface Ack {
  lastSequence: number;
  batch: number;
  count: number;
}

interface WriterRun {
  pid: number;
  startSequence: number;
  acks: Ack[];
  closed: boolean;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

beforeAll(async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT }, (error, stdout, stderr) =>
      resolve(error ? `${stdout}${stderr}` : ''),
    );
  });
  // tsc emits even with type errors elsewhere; what matters is that the library is there.
  expect(existsSync(join(ROOT, 'dist', 'index.js')), `build failed:\n${output}`).toBe(true);
}, 180_000);

/**
 * Runs the writer. With `killAfterAcks`, SIGKILLs it as soon as that many appends were acknowledged
 * (0: right after it opened the store), once `whileRunning` (if any) has finished.
 */
function runWriter(
  config: WriterConfig,
  killAfterAcks: number | undefined,
  whileRunning?: () => Promise<void>,
): Promise<WriterRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: WriterRun = {
      pid: child.pid ?? -1,
      startSequence: -1,
      acks: [],
      closed: false,
      signal: null,
      code: null,
      stderr: '',
    };
    let armed = whileRunning === undefined;
    let hookError: unknown;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not reach ${killAfterAcks} acks in time; stderr:\n${run.stderr}`));
    }, 60_000);
    const maybeKill = () => {
      if (
        armed &&
        killAfterAcks !== undefined &&
        run.acks.length >= killAfterAcks &&
        child.exitCode === null
      ) {
        child.kill('SIGKILL');
      }
    };
    child.stderr.on('data', (chunk: Buffer) => {
      run.stderr += chunk.toString();
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, ...rest] = line.split(' ');
      if (word === 'START') {
        run.startSequence = Number(rest[0]);
        if (whileRunning) {
          whileRunning().then(
            () => {
              armed = true;
              maybeKill();
            },
            (error: unknown) => {
              hookError = error;
              armed = true;
              maybeKill();
            },
          );
        }
      } else if (word === 'ACK') {
        const [lastSequence, batch, count] = rest.map(Number) as [number, number, number];
        run.acks.push({ lastSequence, batch, count });
      } else if (word === 'CLOSED') {
        run.closed = true;
      }
      maybeKill();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      if (hookError) reject(hookError);
      else resolve(run);
    });
  });
}

/** Opens the store after the crash and checks it against everything acknowledged so far. */
async function checkStore(dir: string, acked: Ack[]): Promise<number> {
  const store = await openEventStore({ dir });
  try {
    const all = await store.read();
    expect(sequences(all)).toEqual(all.map((_, i) => i + 1));
    expect(store.stats()).toMatchObject({ events: all.length, lastSequence: all.length });

    const batches = new Map<number, StoredEvent[]>();
    const order: number[] = [];
    for (const event of all) {
      if (event.type !== 'CRASH.TEST') continue;
      const { batch } = event.payload as { batch: number };
      if (!batches.has(batch)) {
        batches.set(batch, []);
        order.push(batch);
      }
      batches.get(batch)!.push(event);
    }
    // Batches appear in the order they were written, and none is partly visible.
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const problems: string[] = [];
    for (const [batch, events] of batches) {
      const { count } = events[0]!.payload as { count: number };
      if (events.length !== count)
        problems.push(`batch ${batch}: ${events.length} of ${count} events visible`);
      events.forEach((event, i) => {
        const p = event.payload as { batch: number; index: number; count: number; pad: string };
        if (p.index !== i || p.count !== count || event.tags.batch !== batch)
          problems.push(`batch ${batch}[${i}] content`);
        if (event.sequence !== events[0]!.sequence + i) problems.push(`batch ${batch}[${i}] not contiguous`);
      });
    }
    for (const ack of acked) {
      const events = batches.get(ack.batch);
      if (!events)
        problems.push(`acknowledged batch ${ack.batch} (up to sequence ${ack.lastSequence}) is missing`);
      else if (events.length !== ack.count || events.at(-1)!.sequence !== ack.lastSequence) {
        problems.push(
          `acknowledged batch ${ack.batch} differs: ${events.length} events ending at ${events.at(-1)!.sequence}`,
        );
      }
    }
    expect(problems).toEqual([]);

    // Versions are gap-free per aggregate, and the aggregate index agrees with the log.
    const byAggregate = new Map<string, StoredEvent[]>();
    for (const event of all)
      byAggregate.set(event.aggregateId, [...(byAggregate.get(event.aggregateId) ?? []), event]);
    for (const [aggregateId, events] of byAggregate) {
      expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
      expect(sequences(await store.getEvents(aggregateId))).toEqual(sequences(events));
    }

    // Appending works afterwards and continues the sequence.
    const [after] = await store.append({
      aggregateId: 'after-crash',
      type: 'AFTER',
      payload: { n: all.length },
    });
    expect(after!.sequence).toBe(all.length + 1);
    return all.length + 1;
  } finally {
    await store.close();
  }
}

const variants: { title: string; fsync: FsyncPolicy; segmentSize?: number; checkpointEvery?: number }[] = [
  { title: "fsync 'always'", fsync: 'always' },
  {
    title: "fsync 'batch', 64 KiB segments, checkpoint every 200 events",
    fsync: 'batch',
    segmentSize: 64 * 1024,
    checkpointEvery: 200,
  },
  {
    title: "fsync 'always', 16 KiB segments, checkpoint every 50 events",
    fsync: 'always',
    segmentSize: 16 * 1024,
    checkpointEvery: 50,
  },
  // 'never' acknowledges after write() like 'batch' (only the fsync is left to flush/close), so it too
  // must survive the death of the process (not of the machine).
  { title: "fsync 'never'", fsync: 'never' },
];

describe('kill -9 while appending', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  for (const [v, variant] of variants.entries()) {
    test(`${variant.title}: acknowledged appends survive, batches stay whole`, async () => {
      const dir = await tempDir('tamma-kill-');
      dirs.push(dir);
      const random = seededRandom(1000 + v);
      const acked: Ack[] = [];
      let lastSequence = 0;
      const rounds = [0, ...Array.from({ length: 4 }, () => randomInt(random, 1, 25))];
      for (const [round, killAfter] of rounds.entries()) {
        const config: WriterConfig = {
          dir,
          fsync: variant.fsync,
          firstBatch: (round + 1) * 100_000,
          seed: 77 * v + round,
          ...(variant.segmentSize === undefined ? {} : { segmentSize: variant.segmentSize }),
          ...(variant.checkpointEvery === undefined ? {} : { checkpointEvery: variant.checkpointEvery }),
        };
        // In the first crashing round, check that a live holder's lock keeps this process out.
        const whileRunning =
          round === 1
            ? async () => {
                const error = await rejection(() => openEventStore({ dir }));
                expectError(error, StoreLockedError, 'STORE_LOCKED', dir);
                // repair must not cut a log that a live process is writing.
                expectError(await rejection(() => repairStore(dir)), StoreLockedError, 'STORE_LOCKED');
              }
            : undefined;
        const run = await runWriter(config, killAfter, whileRunning);
        expect(run.signal, `writer exited by itself (code ${run.code}):\n${run.stderr}`).toBe('SIGKILL');
        expect(run.startSequence).toBe(lastSequence);
        // The killed writer's lock is left behind, naming a dead process: the next open takes it over.
        expect(await readFile(join(dir, 'LOCK'), 'utf8')).toContain(String(run.pid));
        acked.push(...run.acks);
        lastSequence = await checkStore(dir, acked);
      }
      expect(acked.length).toBeGreaterThanOrEqual(rounds.reduce((a, b) => a + b, 0));

      // Then a run that closes cleanly: everything is there after reopening.
      const run = await runWriter(
        { dir, fsync: variant.fsync, firstBatch: 900_000, seed: 5, stopAfter: 15 },
        undefined,
      );
      expect(run.closed, run.stderr).toBe(true);
      expect(run.code).toBe(0);
      expect(run.startSequence).toBe(lastSequence);
      expect(run.acks).toHaveLength(15);
      acked.push(...run.acks);
      const finalSequence = await checkStore(dir, acked);
      expect(finalSequence).toBe(run.acks.at(-1)!.lastSequence + 1);
    });
  }
});

/**
 * Frames larger than the log scan's 16 MiB read window: one append of 1,000,000 small events (a
 * frame of ~95 MiB), and one event of 64 MiB with maxEventSize raised to 64 MiB. Each starts the
 * log (the scan reads a fresh window there), so a scan that did not read on to the frame's length
 * took it for a torn tail: reopened empty after a crash, every read failed after a clean close, and
 * with appends after it open refused and repair deleted everything.
 */
describe('a frame larger than the scan window survives reopen, verify and repair', () => {
  const LARGE_WRITER = fileURLToPath(new URL('./large-frame-writer.mjs', import.meta.url));
  const MAX_EVENT = 64 * 1024 * 1024;
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  interface LargeConfig {
    dir: string;
    kind: 'batch' | 'event';
    events?: number;
    payloadBytes?: number;
    maxEventSize?: number;
    after: number;
    close: boolean;
  }

  /** Runs the large-frame writer; kills it once it waits (unless it closes). Returns the acked sequences. */
  function runLarge(
    config: LargeConfig,
  ): Promise<{ acked: number; signal: NodeJS.Signals | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--max-old-space-size=2048', LARGE_WRITER, JSON.stringify(config)],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let acked = 0;
      let stderr = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`large writer timed out; stderr:\n${stderr}`));
      }, 60_000);
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const [word, sequence] = line.split(' ');
        if (word === 'ACK') acked = Number(sequence);
        if (word === 'WAITING') child.kill('SIGKILL');
      });
      child.on('close', (_code, signal) => {
        clearTimeout(timer);
        resolve({ acked, signal, stderr });
      });
    });
  }

  const cases = [
    {
      title: 'one append of 1,000,000 events (a 95 MiB frame)',
      kind: 'batch' as const,
      events: 1_000_000,
      large: 1_000_000,
    },
    {
      title: 'one event of 64 MiB (maxEventSize 64 MiB)',
      kind: 'event' as const,
      payloadBytes: MAX_EVENT - 1024,
      maxEventSize: MAX_EVENT,
      large: 1,
    },
  ];

  for (const c of cases) {
    /** Checks every acknowledged event is there, reads the large frame's events, and appends after them. */
    const expectAll = async (dir: string, acked: number): Promise<void> => {
      const store = await openEventStore({ dir, maxEventSize: MAX_EVENT });
      try {
        expect(store.stats()).toMatchObject({ events: acked, lastSequence: acked });
        const [first] = await store.read({ limit: 1 });
        const [last] = await store.read({ fromSequence: c.large, limit: 1 });
        if (c.kind === 'batch') {
          expect(first).toMatchObject({ sequence: 1, type: 'BIG.BATCH', payload: { i: 0 } });
          expect(last).toMatchObject({ sequence: c.large, payload: { i: c.large - 1 } });
        } else {
          expect(first!.type).toBe('BIG.EVENT');
          expect((first!.payload as { text: string }).text.length).toBe(c.payloadBytes);
        }
        const after = await store.getEventsByType('AFTER');
        expect(sequences(after)).toEqual(Array.from({ length: acked - c.large }, (_, i) => c.large + 1 + i));
      } finally {
        await store.close();
      }
    };

    test(`${c.title}: after a crash, after a clean close, with appends after it`, async () => {
      const config = (dir: string, after: number, close: boolean): LargeConfig => ({
        dir,
        kind: c.kind,
        after,
        close,
        ...(c.events === undefined ? {} : { events: c.events }),
        ...(c.payloadBytes === undefined
          ? {}
          : { payloadBytes: c.payloadBytes, maxEventSize: c.maxEventSize }),
      });

      // The large frame is the log's last when the writer is killed; then, after the parent's
      // clean close (which writes a checkpoint), it is read again.
      const alone = await tempDir('tamma-large-');
      dirs.push(alone);
      const crashed = await runLarge(config(alone, 0, false));
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      expect(crashed.acked).toBe(c.large);
      await expectAll(alone, c.large);
      await expectAll(alone, c.large);

      // Appends after it, then a crash: verify reads it, open replays it, repair keeps it.
      const followed = await tempDir('tamma-large-');
      dirs.push(followed);
      const run = await runLarge(config(followed, 3, false));
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(run.acked).toBe(c.large + 3);
      expect(await verifyStore(followed)).toMatchObject({ ok: true, problems: [], events: c.large + 3 });
      await expectAll(followed, c.large + 3);
      const repair = await repairStore(followed);
      expect(repair).toMatchObject({ dropped: [], removedFiles: [], eventsKept: c.large + 3 });
      await expectAll(followed, c.large + 3);
    }, 90_000);
  }
});

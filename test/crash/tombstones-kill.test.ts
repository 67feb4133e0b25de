/**
 * kill -9 while deleting streams: every deletion acknowledged (deleteAggregate resolved) is still
 * in force after reopening, a deletion cut short by the kill leaves no damage (the torn last line of
 * tombstones.log is dropped, and the next deletion starts a clean line), and the log sequence each
 * tombstone records as proof never makes a healthy store refuse to open.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { openEventStore, verifyStore, type FsyncPolicy } from '../../src/index.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { ROOT, REGISTER, LIB } from '../support/child-paths.js';

const WRITER = fileURLToPath(new URL('./tombstone-writer.mjs', import.meta.url));

/** Runs the writer until it has acknowledged `killAfter` deletions, then SIGKILLs it. */
function runWriter(dir: string, fsync: FsyncPolicy, prefix: string, killAfter: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const config = { lib: LIB, dir, fsync, prefix };
    const child = spawn(process.execPath, ['--import', REGISTER, WRITER, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const deleted: string[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer did not reach ${killAfter} deletions in time; stderr:\n${stderr}`));
    }, 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, id] = line.split(' ');
      if (word === 'DEL') deleted.push(id!);
      if (deleted.length >= killAfter && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself:\n${stderr}`));
      else resolve(deleted);
    });
  });
}

describe('kill -9 while deleting streams', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  // 'batch': the riskier for the proof each tombstone records (appends are acknowledged before their fsync).
  for (const fsync of ['batch'] as const) {
    test(`fsync '${fsync}': acknowledged deletions survive, and the store opens after each kill`, async () => {
      const dir = join(await tempDir('tamma-kill-tombstones-'), 'store');
      dirs.push(dir);
      const deleted: string[] = [];
      for (const [round, killAfter] of [5, 1, 12].entries()) {
        deleted.push(...(await runWriter(dir, fsync, `r${round}`, killAfter)));
        const report = await verifyStore(dir);
        expect(report.problems.filter((p) => p.kind !== 'torn-tail')).toEqual([]);
        const store = await openEventStore({ dir });
        try {
          for (const id of deleted) expect(await store.getEvents(id), id).toEqual([]);
          expect(await store.getEvents(`r${round}-live`)).not.toEqual([]);
          expect(store.stats().deletedAggregates).toBeGreaterThanOrEqual(deleted.length);
        } finally {
          await store.close();
        }
      }
    }, 60_000);
  }
});

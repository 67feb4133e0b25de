/**
 * A full disk (issue 14, item 8), on a real one: an 8 MiB tmpfs, filled with a ballast file. Every
 * failure is a coded TammaError, no temporary file is left to hold the space, and once space is
 * freed the store goes on (the same handle, or a reopen) with every acknowledged event.
 *
 * Mounting needs root (CAP_SYS_ADMIN); where it is not permitted the ENOSPC test is skipped, and
 * says why. Stale temporaries at open need no tmpfs.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ManualClock, openEventStore, TammaError, type EventStore } from '../../src/index.js';
import { rejection, removeDir, tempDir } from '../support/helpers.js';

const clock = new ManualClock(Date.UTC(2026, 0, 1));

/** Mounts an 8 MiB tmpfs, or says why it cannot. */
function mountTmpfs(): { dir: string } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tamma-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { reason: stderr || (error as Error).message };
  }
}

const mount = mountTmpfs();
const mounted = 'dir' in mount ? mount.dir : undefined;
if (mounted === undefined) {
  console.warn(
    `disk-full.test.ts: SKIPPING the ENOSPC test: cannot mount a tmpfs (${(mount as { reason: string }).reason})`,
  );
}

afterAll(() => {
  if (mounted === undefined) return;
  try {
    execFileSync('umount', [mounted], { stdio: 'pipe' });
  } catch {
    // A failed test may leave a file open there: detach it now, freed when the file closes.
    execFileSync('umount', ['-l', mounted], { stdio: 'pipe' });
  }
  rmSync(mounted, { recursive: true, force: true });
});

/** Fills the file system holding `path` to the last byte. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  // The last partial page: byte by byte, until nothing more fits.
  try {
    for (;;) writeSync(fd, chunk, 0, 512);
  } catch {
    /* full */
  }
  try {
    for (;;) writeSync(fd, chunk, 0, 1);
  } catch {
    /* full */
  }
  closeSync(fd);
}

const temporaries = (dir: string) =>
  [...readdirSync(dir), ...readdirSync(join(dir, 'log')).map((name) => `log/${name}`)].filter((name) =>
    name.endsWith('.tmp'),
  );

/** An event of about 9 KiB: more than the slack a full file system leaves in a file's last page. */
const big = (n: number) => ({ aggregateId: `s${n % 3}`, type: 'T', payload: { n, pad: 'x'.repeat(9000) } });

function expectDiskFull(error: unknown): void {
  expect(error).toBeInstanceOf(TammaError);
  expect((error as Error).name).toBe('StorageError');
  expect(error).toMatchObject({ code: 'DISK_FULL', systemCode: 'ENOSPC' });
}

describe('a full disk', () => {
  test.skipIf(mounted === undefined)(
    'fails with DISK_FULL, leaves no temporary file, and recovers once space is freed',
    async () => {
      const dir = join(mounted!, 'store');
      const ballast = join(mounted!, 'ballast');
      const open = () => openEventStore({ dir, clock, fsync: 'always', checkpointEvery: 0 });
      let store: EventStore = await open();
      const acknowledged: number[] = [];
      for (let n = 0; n < 20; n++) acknowledged.push((await store.append(big(n)))[0]!.sequence);

      fillDisk(ballast);
      expectDiskFull(await rejection(() => store.append(big(100))));
      expectDiskFull(await rejection(() => store.checkpoint()));
      expectDiskFull(await rejection(() => store.deleteAggregate('s1')));
      expect(temporaries(dir)).toEqual([]);
      // Nothing of the failed calls shows.
      expect((await store.read()).map((e) => e.sequence)).toEqual(acknowledged);
      expect(await store.getEvents('s1')).toHaveLength(7);

      // Space freed: the same handle goes on.
      rmSync(ballast);
      acknowledged.push((await store.append(big(20)))[0]!.sequence);
      await store.checkpoint();
      expect(store.stats().storage!.lastCheckpointSequence).toBe(21);
      acknowledged.push((await store.append(big(21)))[0]!.sequence);
      expect(acknowledged).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));

      // Full again at close: its checkpoint fails, coded, and leaves no temporary file (once, a
      // raw ENOSPC and a 4 MiB checkpoint.bin.tmp that ate the space freed later).
      fillDisk(ballast);
      expectDiskFull(await rejection(() => store.close()));
      expect(temporaries(dir)).toEqual([]);
      rmSync(ballast);

      store = await open();
      expect((await store.read()).map((e) => e.sequence)).toEqual(acknowledged);
      expect((await store.append(big(22)))[0]!.sequence).toBe(23);
      await store.close();
    },
  );

  test('stale temporary files are removed at open', async () => {
    const root = await tempDir('tamma-stale-tmp-');
    try {
      const dir = join(root, 'store');
      const store = await openEventStore({ dir, clock });
      await store.append({ aggregateId: 'a', type: 'T' });
      await store.close();
      const stale = ['checkpoint.bin.tmp', 'indexes.json.tmp', 'retention.json.tmp', 'log/start.json.tmp'];
      for (const name of stale) writeFileSync(join(dir, name), Buffer.alloc(4096));
      mkdirSync(join(dir, 'not-a-file.tmp'));
      const reopened = await openEventStore({ dir, clock });
      expect(stale.filter((name) => existsSync(join(dir, name)))).toEqual([]);
      // Only files: a directory is not a write's temporary file.
      expect(existsSync(join(dir, 'not-a-file.tmp'))).toBe(true);
      expect(await reopened.read()).toHaveLength(1);
      await reopened.close();
    } finally {
      await removeDir(root);
    }
  });
});

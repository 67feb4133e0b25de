import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreLockedError, TammaError } from '../../../errors.js';
import { LOCK_FILE } from './segment-files.js';

export interface DirectoryLock {
  release(): void;
}

/** flock(2) from fs-ext (a native addon built from source at install; Node has no flock of its own). */
const { flockSync } = createRequire(import.meta.url)('fs-ext') as {
  flockSync(fd: number, operation: 'exnb' | 'un'): void;
};

/**
 * One process at a time may open a store directory for writing: two writers would interleave
 * frames and hand out the same sequences. The lock is an OS advisory lock, flock(LOCK_EX|LOCK_NB),
 * on the LOCK file, held through a descriptor kept open until close.
 *
 * Why this is correct where a pid file is not:
 * - Acquisition is one atomic kernel step: of any number of processes calling flock at once, exactly
 *   one gets it and every other gets EWOULDBLOCK. There is no window between "create" and "record
 *   the owner" in which a second opener could take the lock for stale.
 * - A lock is never stale: the kernel drops it when its holder's last descriptor closes, which
 *   includes the process dying (kill -9, OOM, a container stopped). Nothing guesses from a pid, so
 *   a reused pid (a restarted container's new process is often the same pid, or pid 1) cannot make
 *   a dead holder look alive, nor a live one look dead. Taking over a dead holder's lock is just
 *   acquiring it: nothing is removed and re-created.
 * - The LOCK file is never deleted, not even on release: with delete-on-release, a process that
 *   opened the old file before the unlink could lock that orphaned inode while a third process
 *   locks a new file under the same name, and both would hold "the" lock.
 * - flock locks belong to the open file description, so a second open of the same store in the same
 *   process is refused too (unlike fcntl locks, which a process shares with itself).
 * The holder's pid, host and start time are written into the file after the lock is taken, only to
 * name the holder in the error another opener gets; nothing decides anything from them.
 */
export function acquireLock(dir: string): DirectoryLock {
  const path = join(dir, LOCK_FILE);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    flockSync(fd, 'exnb');
  } catch (error) {
    closeSync(fd);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') throw new StoreLockedError(dir, describeHolder(path));
    throw new TammaError(
      'LOCK_FAILED',
      `could not lock ${path} (${(error as Error).message}); the file system must support flock (a local disk does)`,
      { cause: error },
    );
  }
  try {
    const holder = Buffer.from(
      `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`,
    );
    ftruncateSync(fd, 0);
    writeSync(fd, holder, 0, holder.length, 0);
  } catch {
    /* the holder's name is only for messages: the lock is what counts */
  }
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      try {
        // Emptied while still locked, so a LOCK naming a pid always means that pid held it last.
        ftruncateSync(fd, 0);
      } catch {
        /* closing releases the lock whatever happens here */
      }
      closeSync(fd);
    },
  };
}

/** Names the lock's holder from what it wrote into the file: "pid 123 on host-a since …". */
function describeHolder(path: string): string {
  let text = '';
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    /* unreadable: named generically below */
  }
  let holder: { pid?: unknown; host?: unknown; since?: unknown } = {};
  try {
    holder = JSON.parse(text) as typeof holder;
  } catch {
    // A lock file from an older version held a bare pid.
    if (/^\d+$/.test(text)) holder = { pid: Number(text) };
  }
  if (typeof holder.pid !== 'number') return 'a process that has not yet recorded its pid in LOCK';
  if (holder.pid === process.pid && holder.host === hostname()) return 'this process';
  const host = typeof holder.host === 'string' ? ` on ${holder.host}` : '';
  const since = typeof holder.since === 'string' ? ` since ${holder.since}` : '';
  return `pid ${holder.pid}${host}${since}`;
}

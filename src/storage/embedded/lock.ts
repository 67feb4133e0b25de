import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreLockedError } from '../../errors.js';
import { LOCK_FILE } from './segment-files.js';

export interface DirectoryLock {
  release(): void;
}

/**
 * One process at a time may open a store directory: two writers would interleave frames. The lock
 * file holds the owner's pid; a lock left by a process that no longer exists (kill -9) is taken over.
 */
export function acquireLock(dir: string): DirectoryLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(path, 'utf8').trim());
      } catch {
        /* vanished or unreadable: treat as stale */
      }
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new StoreLockedError(dir, holder === process.pid ? 'this process' : `pid ${holder}`);
      }
      rmSync(path, { force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

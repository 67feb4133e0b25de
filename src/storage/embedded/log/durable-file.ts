import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LOG_DIR } from './segment-files.js';
import { storageError } from './storage-error.js';
import { syncDirectory, syncDirectoryAsync } from './segment-log.js';

/**
 * Replaces a small file so that a crash leaves either the old contents or the new, never a mix:
 * write a temporary file, fsync it, rename it over the old one, fsync the directory.
 */
export function writeFileDurably(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const temporary = `${path}.tmp`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    syncDirectory(dirname(path));
  } catch (error) {
    // A temporary file left behind would hold on to the space a full disk needs back.
    removeTemporary(temporary);
    throw storageError(error, `could not write ${path} durably`);
  }
}

/**
 * writeFileDurably with the writes and fsyncs off the main thread (an archive's file; cleanup's
 * records). Parts given as a list are written in order, as one file.
 */
export async function writeFileDurablyAsync(
  path: string,
  bytes: Uint8Array | string | readonly Uint8Array[],
): Promise<void> {
  const temporary = `${path}.tmp`;
  try {
    const file = await open(temporary, 'w');
    try {
      // Each writeFile goes on from where the previous one ended (a handle keeps its position).
      for (const part of typeof bytes === 'string' || bytes instanceof Uint8Array ? [bytes] : bytes)
        await file.writeFile(part);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    await syncDirectoryAsync(dirname(path));
  } catch (error) {
    await removeTemporaryAsync(temporary);
    throw storageError(error, `could not write ${path} durably`);
  }
}

/**
 * Removes a temporary file a failed write left, quietly (the write's error is the one to report);
 * never a directory, nor anything it cannot remove.
 */
export function removeTemporary(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there, or not ours to remove */
  }
}

export async function removeTemporaryAsync(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** Temporary files of durable writes, in the store directory and its log/ directory. */
const STALE = /\.tmp$/;

/**
 * Removes the temporary files a crash (or a failed write) left behind: nothing refers to them, and
 * on a full disk they hold the space the store needs back. Called at open, under the lock. Only
 * regular files: a restore's staging directory (`log.new`) is log-swap's to finish or forget.
 */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  for (const folder of [dir, join(dir, LOG_DIR)]) {
    if (!existsSync(folder)) continue;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isFile() || !STALE.test(entry.name)) continue;
      rmSync(join(folder, entry.name), { force: true });
      removed.push(join(folder, entry.name));
    }
  }
  return removed;
}

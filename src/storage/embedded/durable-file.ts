import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory, syncDirectoryAsync } from './segment-log.js';

/**
 * Replaces a small file so that a crash leaves either the old contents or the new, never a mix:
 * write a temporary file, fsync it, rename it over the old one, fsync the directory.
 */
export function writeFileDurably(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(dirname(path));
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
}

import { existsSync, readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { FRAME_HEADER, frameCount, frameSequence } from '../../../codec/frame.js';
import { writeFileDurablyAsync } from '../log/durable-file.js';
import { syncDirectoryAsync } from '../log/segment-log.js';
import type { EventTable } from '../table/event-table.js';
import { readArchiveFile, readManifest, type ArchiveEntry } from './archive.js';

// The intent file an archiving cleanup writes before it archives (step 2 in cleanup.ts), and the
// roll-forward at open that keeps a run a crash interrupted from counting events twice (step 3).

const INTENT_FILE = 'cleanup.json';

/**
 * Step 3 at open: a cleanup that died after writing its intent file. Its archive files' events
 * are archived; the ones still in the table go now. Returns the rows to remove.
 */
export function pendingArchivedRows(dir: string, table: EventTable): number[] {
  const intent = readIntent(dir);
  if (intent === undefined) return [];
  const entries = readManifest(intent.archiveDir).slice(intent.filesBefore);
  const rows: number[] = [];
  for (const entry of entries) {
    forEachArchivedSequence(intent.archiveDir, entry, (sequence) => {
      const row = sequence - 1;
      if (row < table.rows && !table.isRemoved(row)) rows.push(row);
    });
  }
  return rows.sort((a, b) => a - b);
}

/** Whether an archiving cleanup was interrupted (its intent file is still there). */
export function cleanupInterrupted(dir: string): boolean {
  return existsSync(join(dir, INTENT_FILE));
}

/** Removes a finished run's (or roll-forward's) intent file; the unlink and fsync run off the main thread. */
export async function clearIntent(dir: string): Promise<void> {
  const path = join(dir, INTENT_FILE);
  if (!existsSync(path)) return;
  await unlink(path);
  await syncDirectoryAsync(dir);
}

/**
 * An intent still there belongs to a run that failed after archiving (an I/O error) and left
 * segments unrewritten: its archive files must stay claimed, so the older count is kept.
 */
export function writeIntent(dir: string, archiveDir: string, filesBefore: number): Promise<void> {
  const earlier = readIntent(dir);
  const since = earlier?.archiveDir === archiveDir ? Math.min(earlier.filesBefore, filesBefore) : filesBefore;
  return writeFileDurablyAsync(
    join(dir, INTENT_FILE),
    `${JSON.stringify({ archiveDir, filesBefore: since })}\n`,
  );
}

function forEachArchivedSequence(dir: string, entry: ArchiveEntry, visit: (sequence: number) => void): void {
  const frames = readArchiveFile(dir, entry);
  for (let at = 0; at < frames.length; at += FRAME_HEADER + frames.readUInt32LE(at + 4)) {
    const first = frameSequence(frames, at);
    const count = frameCount(frames, at);
    for (let i = 0; i < count; i++) visit(first + i);
  }
}

function readIntent(dir: string): { archiveDir: string; filesBefore: number } | undefined {
  const path = join(dir, INTENT_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const intent = JSON.parse(readFileSync(path, 'utf8')) as { archiveDir?: unknown; filesBefore?: unknown };
    if (typeof intent.archiveDir === 'string' && typeof intent.filesBefore === 'number')
      return { archiveDir: intent.archiveDir, filesBefore: intent.filesBefore };
  } catch {
    // fall through: the intent is written durably (temp file + rename), so this is damage
  }
  throw new CorruptionError(path, 0, 'the cleanup intent file is unreadable');
}

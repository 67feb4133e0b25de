import { existsSync, mkdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { failpoint } from '../../../support/failpoint.js';
import { writeFileDurably } from './durable-file.js';
import { CHECKPOINT_FILE, LOG_DIR } from './segment-files.js';
import { syncDirectory } from './segment-log.js';

/**
 * Replacing a store's whole log with a new one, crash-safely (a restore into the middle of a live
 * store rebuilds the log with the restored events between the live ones; retention/log-merge.ts).
 *
 *   <dir>/log.new/           the staging area: a store-shaped directory
 *   <dir>/log.new/log/       the new log, built there (segments and start.json)
 *   <dir>/log.new/READY      written, durably, once the new log is complete: the commit point
 *   <dir>/log.new/old/       where the old log is moved on the way out
 *
 * Order of operations:
 *  1. Build `log.new/log`, fsync every segment, the log directory and the staging directory.
 *  2. Write `READY` durably. Before this, a crash leaves the old log in place and open deletes the
 *     staging area: the restore did not happen.
 *  3. Delete the checkpoint: its record offsets describe the old log.
 *  4. Rename `log` to `log.new/old`, then `log.new/log` to `log`; fsync both directories.
 *  5. Delete the staging area (and the old log in it).
 * From step 2 on, open rolls forward (`finishLogSwap`): it repeats whichever of steps 3-5 remain.
 * It deletes the checkpoint only while the new log is still staged, so a checkpoint the store wrote
 * after the swap (before step 5 finished) is kept.
 */
export const STAGING_DIR = 'log.new';
const READY_FILE = 'READY';
const OLD_LOG = 'old';

/** A fresh staging directory (any leftover of an earlier attempt removed): build the new log in it. */
export function prepareStaging(dir: string): string {
  const staging = join(dir, STAGING_DIR);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  return staging;
}

/** Steps 2-4: commits the staged log (already durable) and puts it in place of the old. */
export function installStagedLog(dir: string): void {
  const staging = join(dir, STAGING_DIR);
  syncDirectory(join(staging, LOG_DIR));
  writeFileDurably(join(staging, READY_FILE), `${new Date().toISOString()}\n`);
  failpoint('restore:staged');
  rollForward(dir);
}

/** Step 5, off the main thread: the old log's segments can be large. */
export async function removeStaging(dir: string): Promise<void> {
  await rm(join(dir, STAGING_DIR), { recursive: true, force: true });
}

/**
 * At open, before anything reads the log: finishes a log swap a crash interrupted after its commit
 * point, or discards one interrupted before it.
 */
export function finishLogSwap(dir: string): void {
  const staging = join(dir, STAGING_DIR);
  if (!existsSync(staging)) return;
  if (existsSync(join(staging, READY_FILE))) rollForward(dir);
  rmSync(staging, { recursive: true, force: true });
}

/**
 * The directory whose `log/` opening will use: the staging area when a committed swap is still
 * pending (open finishes it), else the store's own. For verify, which changes nothing.
 */
export function logHome(dir: string): string {
  const staging = join(dir, STAGING_DIR);
  return existsSync(join(staging, READY_FILE)) && existsSync(join(staging, LOG_DIR)) ? staging : dir;
}

/** Steps 3-4, each skipped when done already. */
function rollForward(dir: string): void {
  const staging = join(dir, STAGING_DIR);
  const staged = join(staging, LOG_DIR);
  if (!existsSync(staged)) return;
  const checkpoint = join(dir, CHECKPOINT_FILE);
  if (existsSync(checkpoint)) {
    unlinkSync(checkpoint);
    syncDirectory(dir);
  }
  failpoint('restore:checkpoint-dropped');
  const live = join(dir, LOG_DIR);
  if (existsSync(live)) renameSync(live, join(staging, OLD_LOG));
  failpoint('restore:old-moved');
  renameSync(staged, live);
  syncDirectory(staging);
  syncDirectory(dir);
  failpoint('restore:swapped');
}

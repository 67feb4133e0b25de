import { existsSync, readdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurablyAsync } from '../log/durable-file.js';
import { decodeAggregateId } from '../../../codec/record-codec.js';
import { syncDirectoryAsync } from '../log/segment-log.js';
import {
  CompressedParts,
  MANIFEST,
  checkFrames,
  compressFrames,
  readArchiveFileAsync,
  readManifest,
  writeManifestAsync,
  type ArchiveEntry,
} from './archive.js';
import { failpoint } from '../../../support/failpoint.js';
import { framesWithout } from './frame-filter.js';

export interface ArchiveErasure {
  /** Archive files rewritten without the deleted streams' events, or removed (none was left). */
  files: number;
  /** Events taken out. */
  events: number;
  /** Files no manifest entry named (left by a crash), removed. */
  orphans: number;
}

/**
 * Erasure in an archive: every file that holds an event of a deleted stream is replaced by one
 * without those events (or, when none is left, taken out of the manifest), so that no file of the
 * archive holds them and no restore, into this store or any other, brings them back.
 *
 * Order of operations, and why a SIGKILL at any point loses no other event and leaves none of the
 * erased ones readable for long:
 *
 *  1. Files the manifest does not name are removed: left by a crash (a run's file written before
 *     its manifest entry, whose events are still live; or an erasure's, see 3 and 5), nothing reads
 *     them, and they may hold a deleted stream's events.
 *  2. Each file holding such events is read (checked whole), filtered (frame-filter.ts) and written
 *     under a new name (`<run>-<first>-<last>-e<n>.tzf`), durably. Nothing reads it yet.
 *  3. `beforeSwap` gets the renames: the store's record of restored events (archived-copies.ts)
 *     must follow its files to their new names before the manifest does.
 *  4. The manifest is replaced, durably, naming the new files: the switch, atomic by rename.
 *     A crash before it leaves the old manifest and files (the new ones are orphans for step 1).
 *  5. The old files are deleted. A crash before leaves them as orphans: the caller records the
 *     erasure only after this returns, so the next cleanup runs this again and step 1 takes them.
 *
 * Undefined when `pause` says to stop (the store is closing) before the switch.
 */
export async function eraseFromArchive(
  dir: string,
  isDeleted: (aggregateId: string) => boolean,
  beforeSwap: (renamed: ReadonlyMap<string, string>) => void,
  pause: () => Promise<boolean>,
): Promise<ArchiveErasure | undefined> {
  const result: ArchiveErasure = { files: 0, events: 0, orphans: 0 };
  if (!existsSync(join(dir, MANIFEST))) return result;
  const entries = readManifest(dir);
  result.orphans = await removeOrphans(dir, entries);
  const kept: ArchiveEntry[] = [];
  const replaced: string[] = [];
  const renamed = new Map<string, string>();
  const taken = new Set(entries.map((entry) => entry.file));
  let stop = false;
  for (const entry of entries) {
    const frames = await readArchiveFileAsync(dir, entry, async () => {
      stop ||= !(await pause());
    });
    if (stop) return undefined;
    const filtered = framesWithout(frames, (record) => isDeleted(decodeAggregateId(record)));
    if (filtered.dropped === 0) {
      kept.push(entry);
      continue;
    }
    result.files++;
    result.events += filtered.dropped;
    replaced.push(entry.file);
    if (filtered.frames.length === 0) continue;
    const summary = checkFrames(filtered.frames, join(dir, entry.file));
    const compressed = new CompressedParts().add(await compressFrames(filtered.frames));
    const file = erasedName(entry.file, summary.firstSequence, summary.lastSequence, taken);
    taken.add(file);
    await writeFileDurablyAsync(join(dir, file), compressed.parts);
    failpoint('erasure:archive-file-written');
    renamed.set(entry.file, file);
    kept.push({
      file,
      firstSequence: summary.firstSequence,
      lastSequence: summary.lastSequence,
      events: summary.events,
      minTimestamp: summary.minTimestamp,
      maxTimestamp: summary.maxTimestamp,
      bytes: compressed.bytes,
      crc32: compressed.crc32,
    });
    if (!(await pause())) return undefined;
  }
  if (replaced.length === 0) return result;
  beforeSwap(renamed);
  await writeManifestAsync(dir, kept);
  failpoint('erasure:manifest-written');
  for (const file of replaced) await unlink(join(dir, file));
  await syncDirectoryAsync(dir);
  return result;
}

/** Removes the archive files (and temporary files) no manifest entry names; returns how many. */
async function removeOrphans(dir: string, entries: readonly ArchiveEntry[]): Promise<number> {
  const listed = new Set(entries.map((entry) => entry.file));
  const orphans = readdirSync(dir).filter(
    (name) => (name.endsWith('.tzf') || name.endsWith('.tzf.tmp')) && !listed.has(name),
  );
  for (const name of orphans) await unlink(join(dir, name));
  if (orphans.length > 0) await syncDirectoryAsync(dir);
  return orphans.length;
}

const pad = (n: number) => String(n).padStart(20, '0');

/**
 * The rewritten file's name: its run number kept (the order files were written), its new sequence
 * range, and a generation that tells it from the file it replaces, whose range may be the same.
 */
function erasedName(old: string, first: number, last: number, taken: ReadonlySet<string>): string {
  const run = /^\d{8}(?=-)/.exec(old)?.[0] ?? 'erased';
  let generation = Number(/-e(\d+)\.tzf$/.exec(old)?.[1] ?? 0) + 1;
  let name = `${run}-${pad(first)}-${pad(last)}-e${generation}.tzf`;
  while (taken.has(name)) name = `${run}-${pad(first)}-${pad(last)}-e${++generation}.tzf`;
  return name;
}

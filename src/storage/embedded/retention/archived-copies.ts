import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { partitionPoint } from '../../../support/binary-search.js';
import { writeFileDurably } from '../log/durable-file.js';
import { readManifest } from './archive.js';

export const ARCHIVED_COPIES_FILE = 'restored.json';

interface CopiesFile {
  archives: { dir: string; files: Record<string, [number, number][]> }[];
}

/**
 * Events restored into a live store are live and archived at once: the archive keeps its copy. So
 * that a later cleanup does not archive them a second time (an archive holds each event once;
 * readers merge its files by sequence), the store remembers which sequences it restored, from which
 * archive directory and file. Cleanup removes such an event without archiving it again, but only
 * while the archive it is archiving to still lists that file: an archive file that went away, or
 * another archive directory, gets the event archived as usual. So nothing leaves the store without
 * a copy in the archive cleanup writes to.
 *
 * On disk `restored.json` in the store directory, written durably before the restore's log swap
 * commits (log-swap.ts). A record of sequences the store no longer holds live does nothing: cleanup
 * only asks about live events. In memory for an in-memory store.
 */
export class ArchivedCopies {
  private record: CopiesFile = { archives: [] };

  constructor(private readonly storeDir: string | undefined) {
    if (storeDir === undefined) return;
    const path = join(storeDir, ARCHIVED_COPIES_FILE);
    if (!existsSync(path)) return;
    try {
      const record = JSON.parse(readFileSync(path, 'utf8')) as CopiesFile;
      if (!Array.isArray(record.archives)) throw new Error('no archives list');
      this.record = record;
    } catch (error) {
      throw new CorruptionError(
        path,
        0,
        `the record of restored events is unreadable (${(error as Error).message})`,
      );
    }
  }

  /** Adds a restore's sequences, by archive file; durable on disk when it returns. */
  add(archiveDir: string, ranges: ReadonlyMap<string, readonly [number, number][]>): void {
    const dir = resolve(archiveDir);
    let archive = this.record.archives.find((entry) => entry.dir === dir);
    if (archive === undefined) this.record.archives.push((archive = { dir, files: {} }));
    for (const [file, added] of ranges) {
      if (added.length === 0) continue;
      archive.files[file] = coalesce([...(archive.files[file] ?? []), ...added]);
    }
    if (this.storeDir !== undefined)
      writeFileDurably(join(this.storeDir, ARCHIVED_COPIES_FILE), `${JSON.stringify(this.record)}\n`);
  }

  /**
   * An erasure rewrote archive files under new names (archive-erasure.ts): the sequences recorded
   * for each old file are recorded for its new one too, durably, before the manifest names it, so
   * cleanup still knows those events have their copy. (The old names stay; once the manifest no
   * longer lists them they count for nothing.)
   */
  renamed(archiveDir: string, renames: ReadonlyMap<string, string>): void {
    const archive = this.record.archives.find((entry) => entry.dir === resolve(archiveDir));
    if (archive === undefined) return;
    let changed = false;
    for (const [from, to] of renames) {
      const ranges = archive.files[from];
      if (ranges === undefined) continue;
      archive.files[to] = coalesce([...(archive.files[to] ?? []), ...ranges]);
      changed = true;
    }
    if (changed && this.storeDir !== undefined)
      writeFileDurably(join(this.storeDir, ARCHIVED_COPIES_FILE), `${JSON.stringify(this.record)}\n`);
  }

  /**
   * Whether the event at a sequence already has its copy in `archiveDir` (a file the manifest still
   * lists holds it); undefined when no event does, so cleanup need not ask.
   */
  inArchive(archiveDir: string): ((sequence: number) => boolean) | undefined {
    const dir = resolve(archiveDir);
    const archive = this.record.archives.find((entry) => entry.dir === dir);
    if (archive === undefined) return undefined;
    const listed = new Set(readManifest(archiveDir).map((entry) => entry.file));
    const ranges = coalesce(
      Object.entries(archive.files).flatMap(([file, list]) => (listed.has(file) ? list : [])),
    );
    if (ranges.length === 0) return undefined;
    return (sequence) => {
      // The first range that does not end before the sequence: the only one that can hold it.
      const range =
        ranges[partitionPoint(ranges.length, (i) => (ranges[i] as [number, number])[1] < sequence)];
      return range !== undefined && range[0] <= sequence;
    };
  }
}

/** Sorted, overlapping and adjacent ranges joined. */
function coalesce(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [first, last] of sorted) {
    const previous = out.at(-1);
    if (previous !== undefined && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else out.push([first, last]);
  }
  return out;
}

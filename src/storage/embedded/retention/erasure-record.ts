import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { writeFileDurablyAsync } from '../log/durable-file.js';

export const ERASURE_FILE = 'erased.json';

interface ErasureFile {
  /** Deleted streams no byte of the live log holds any more. */
  log: string[];
  /** Per archive directory (absolute), the deleted streams none of its files holds any more. */
  archives: { dir: string; streams: string[] }[];
}

/** Which erasures still have work on disk: see ErasureRecord.pending. */
export interface PendingErasure {
  /** The log may still hold bytes of a deleted stream's events (in a segment a cut kept). */
  log: boolean;
  /** The archive cleanup writes to may still hold a deleted stream's events. */
  archive: boolean;
}

/**
 * Which deleted streams cleanup has finished erasing, from the log and from each archive
 * directory: `erased.json` in the store directory, written durably once a cleanup's erasure is
 * complete. A stream deleted but not listed here is pending: the next cleanup looks for its events
 * where a compaction does not reach them (the front segment a cut kept, the archive files) and
 * takes them out. The stream names it holds are already in tombstones.log; it holds nothing else.
 * Losing the file costs only work: everything pending is erased (found absent) again. In memory for
 * an in-memory store.
 */
export class ErasureRecord {
  private erased: ErasureFile = { log: [], archives: [] };

  constructor(private readonly storeDir: string | undefined) {
    if (storeDir === undefined) return;
    const path = join(storeDir, ERASURE_FILE);
    if (!existsSync(path)) return;
    try {
      const record = JSON.parse(readFileSync(path, 'utf8')) as Partial<ErasureFile>;
      if (!isNames(record.log) || !Array.isArray(record.archives)) throw new Error('not an erasure record');
      for (const archive of record.archives as unknown[]) {
        const entry = archive as Partial<ErasureFile['archives'][number]> | null;
        if (typeof entry?.dir !== 'string' || !isNames(entry.streams)) throw new Error('bad archive entry');
      }
      this.erased = record as ErasureFile;
    } catch (error) {
      throw new CorruptionError(
        path,
        0,
        `the record of finished erasures is unreadable (${(error as Error).message})`,
        `Delete ${ERASURE_FILE}: the next cleanup then checks every deleted stream is erased again.`,
      );
    }
  }

  /** What of erasing `deleted` (the deleted streams) is left, with cleanup archiving to `archiveDir`. */
  pending(deleted: readonly string[], archiveDir: string | undefined): PendingErasure {
    const log = new Set(this.erased.log);
    const archive = archiveDir === undefined ? undefined : this.archive(archiveDir);
    return {
      log: deleted.some((name) => !log.has(name)),
      archive: archive !== undefined && deleted.some((name) => !archive.has(name)),
    };
  }

  /** Records `deleted` as erased from the log and (when given) `archiveDir`, durably. */
  async record(deleted: readonly string[], archiveDir: string | undefined): Promise<void> {
    let changed = false;
    const add = (list: string[]) => {
      const have = new Set(list);
      for (const name of deleted) {
        if (have.has(name)) continue;
        list.push(name);
        changed = true;
      }
    };
    add(this.erased.log);
    if (archiveDir !== undefined) {
      const dir = resolve(archiveDir);
      let archive = this.erased.archives.find((entry) => entry.dir === dir);
      if (archive === undefined) this.erased.archives.push((archive = { dir, streams: [] }));
      add(archive.streams);
    }
    if (changed && this.storeDir !== undefined)
      await writeFileDurablyAsync(join(this.storeDir, ERASURE_FILE), `${JSON.stringify(this.erased)}\n`);
  }

  private archive(archiveDir: string): Set<string> {
    const dir = resolve(archiveDir);
    return new Set(this.erased.archives.find((entry) => entry.dir === dir)?.streams ?? []);
  }
}

function isNames(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((name) => typeof name === 'string');
}

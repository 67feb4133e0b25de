import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { storageError } from '../log/storage-error.js';
import { syncDirectory } from '../log/segment-log.js';
import type { EventTable } from '../table/event-table.js';
import { encodeTombstone, parseTombstones } from './tombstone-records.js';

export const TOMBSTONE_FILE = 'tombstones.log';

/**
 * Streams deleted with `deleteAggregate` (erasure): their events disappear at once from every read,
 * query and count, and the stream takes no more appends. Physical removal is cleanup's job.
 *
 * On disk each deletion is one checksummed line appended to `tombstones.log` (tombstone-records.ts)
 * and fsync'ed before `deleteAggregate` resolves, so an acknowledged deletion survives a crash. A
 * torn last line (a crash mid-write of a deletion never acknowledged) is ignored on open and cut
 * off before the next deletion; any other damage is refused with a CorruptionError.
 */
export class Tombstones {
  /** Aggregate dictionary ids of deleted streams. */
  private aggregates = new Set<number>();
  /** Their names: dictionary ids change when cleanup compacts the table (see remap). */
  private readonly names: string[] = [];
  private events = 0;
  /** Bytes of intact records in the file: a torn tail after them is cut off before the next write. */
  private validLength: number | undefined;
  /** The highest sequence a tombstone proves the log reached (tombstone-records.ts `through`). */
  through = 0;
  /** A torn last line found at open (a deletion a crash cut short, never acknowledged), if any. */
  tornTail: { offset: number; bytes: number } | undefined;

  constructor(
    private readonly table: EventTable,
    private readonly dir: string | undefined,
    /** The deleted streams, when known already (a table rebuilt by a restore); else read from `dir`. */
    deleted?: readonly string[],
  ) {
    if (deleted !== undefined) {
      for (const name of deleted) this.mark(name);
      return;
    }
    if (dir === undefined) return;
    const path = join(dir, TOMBSTONE_FILE);
    if (!existsSync(path)) return;
    const parsed = parseTombstones(path, readFileSync(path));
    for (const record of parsed.records) {
      this.mark(record.aggregateId);
      if (record.through !== undefined) this.through = Math.max(this.through, record.through);
    }
    this.validLength = parsed.validLength;
    this.tornTail = parsed.torn;
  }

  /** The same deletions over another table (one a restore rebuilt). */
  over(table: EventTable): Tombstones {
    return new Tombstones(table, this.dir, this.names);
  }

  /** Whether anything is deleted: when not, reads skip the check entirely. */
  get active(): boolean {
    return this.aggregates.size > 0;
  }

  /** Events hidden by deletions. */
  get deletedEvents(): number {
    return this.events;
  }

  get deletedAggregates(): number {
    return this.aggregates.size;
  }

  isAggregateDeleted(aggregateId: string): boolean {
    const id = this.table.aggregates.idOf(aggregateId);
    return id !== undefined && this.aggregates.has(id);
  }

  /** The aggregate dictionary ids of the deleted streams, ascending: what a column filter excludes. */
  aggregateIds(): number[] {
    return [...this.aggregates].sort((a, b) => a - b);
  }

  /** Whether the aggregate dictionary id is a deleted stream's (a cut must not release it). */
  holds(aggregate: number): boolean {
    return this.aggregates.has(aggregate);
  }

  /** After a cut removed events in place: the deleted streams' ids stay, their events are fewer. */
  recount(): void {
    this.events = 0;
    for (const id of this.aggregates) this.events += this.table.byAggregate.count(id);
  }

  /** Whether the row's event is deleted. */
  readonly isDeleted = (row: number): boolean => this.aggregates.has(this.table.aggregateId.get(row));

  /**
   * Deletes a stream, durably; returns false when it was deleted already. `through`: the last
   * sequence of the log, already durable (recorded as proof that the log reached it).
   */
  delete(aggregateId: string, through = 0): boolean {
    if (this.isAggregateDeleted(aggregateId)) return false;
    if (this.dir !== undefined)
      this.validLength = appendRecord(this.dir, encodeTombstone({ aggregateId, through }), this.validLength);
    this.through = Math.max(this.through, through);
    this.mark(aggregateId);
    return true;
  }

  private mark(aggregateId: string): void {
    if (this.count(aggregateId)) this.names.push(aggregateId);
  }

  /** Adds the stream's id to the deleted set and its events to the count; false when already there. */
  private count(aggregateId: string): boolean {
    const id = this.table.aggregates.intern(aggregateId);
    if (this.aggregates.has(id)) return false;
    this.aggregates.add(id);
    this.events += this.table.byAggregate.count(id);
    return true;
  }

  /**
   * After cleanup swapped in a compacted table: its dictionary has new ids, and the deleted
   * streams' events are gone. The names stay, interned again, so appends to them are still refused.
   */
  remap(): void {
    this.aggregates = new Set();
    this.events = 0;
    for (const name of this.names) this.count(name);
  }
}

/**
 * Appends one record and fsyncs it. A torn tail left by a crash is cut off first (else the record
 * would continue the torn line); a write that fails (a full disk) is cut off again, so the file
 * stays whole records only, and the error says nothing was deleted.
 */
function appendRecord(dir: string, line: string, validLength: number | undefined): number {
  const path = join(dir, TOMBSTONE_FILE);
  const created = !existsSync(path);
  const fd = openSync(path, created ? 'w' : 'r+');
  let end: number;
  try {
    const start = validLength ?? fstatSync(fd).size;
    try {
      if (fstatSync(fd).size !== start) ftruncateSync(fd, start);
      const bytes = Buffer.from(line);
      for (let done = 0; done < bytes.length;)
        done += writeSync(fd, bytes, done, bytes.length - done, start + done);
      fsyncSync(fd);
      end = start + bytes.length;
    } catch (error) {
      try {
        ftruncateSync(fd, start);
      } catch {
        /* the write's error is the one to report */
      }
      throw storageError(error, `could not record the deletion in ${path}; nothing was deleted`);
    }
  } finally {
    closeSync(fd);
  }
  if (created) syncDirectory(dir);
  return end;
}

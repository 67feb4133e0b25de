import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../errors.js';
import { syncDirectory } from '../storage/embedded/segment-log.js';
import type { EventTable } from '../table/event-table.js';

export const TOMBSTONE_FILE = 'tombstones.log';

/**
 * Streams deleted with `deleteAggregate` (erasure): their events disappear at once from every read,
 * query and count, and the stream takes no more appends. Physical removal is cleanup's job.
 *
 * On disk each deletion is one JSON line appended to `tombstones.log` and fsync'ed before
 * `deleteAggregate` resolves, so an acknowledged deletion survives a crash. A torn last line (a
 * crash mid-write of a deletion never acknowledged) is ignored on open; damage before it is refused.
 */
export class Tombstones {
  /** Aggregate dictionary ids of deleted streams. */
  private aggregates = new Set<number>();
  /** Their names: dictionary ids change when cleanup compacts the table (see remap). */
  private readonly names: string[] = [];
  private events = 0;

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
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      let aggregateId: unknown;
      try {
        aggregateId = (JSON.parse(line) as { aggregateId?: unknown }).aggregateId;
      } catch {
        if (i === lines.length - 1) return; // torn tail: that deletion was never acknowledged
        throw new CorruptionError(path, 0, `line ${i + 1} is not a tombstone`);
      }
      if (typeof aggregateId !== 'string')
        throw new CorruptionError(path, 0, `line ${i + 1} names no aggregateId`);
      this.mark(aggregateId);
    });
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

  /** Deletes a stream, durably; returns false when it was deleted already. */
  delete(aggregateId: string): boolean {
    if (this.isAggregateDeleted(aggregateId)) return false;
    if (this.dir !== undefined) {
      const path = join(this.dir, TOMBSTONE_FILE);
      const created = !existsSync(path);
      const fd = openSync(path, 'a');
      try {
        writeSync(fd, `${JSON.stringify({ aggregateId })}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (created) syncDirectory(this.dir);
    }
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

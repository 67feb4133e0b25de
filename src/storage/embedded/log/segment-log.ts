import {
  close,
  closeSync,
  unlink,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CorruptionError, StoreClosedError } from '../../../errors.js';
import { failpoint } from '../../../support/failpoint.js';
import { storageError } from './storage-error.js';
import { indexByBase } from './by-base.js';
import { readFully } from './read-fully.js';
import type { RecordLog, SpanWriter } from './record-log.js';
import { listSegments, segmentPath, type SegmentFile } from './segment-files.js';

interface Segment {
  base: number;
  path: string;
  fd: number;
  size: number;
}

export interface SegmentLogOptions {
  segmentSize: number;
  /** fsync a segment when it is rolled over, and the directory when a segment is created. */
  syncOnRoll: boolean;
}

/** The log of an on-disk store: numbered segment files, appended with write(), read with pread(). */
export class SegmentLog implements RecordLog {
  private readonly segments: Segment[] = [];
  /** fsyncs issued so far: with group commit, far fewer than appends under `fsync: 'always'`. */
  fsyncCount = 0;
  /**
   * Where the log was when the last fsync that has completed began: every byte before it is on
   * stable storage. What a crash of the machine (not just of this process) could lose is after it.
   */
  private syncedEnd = 0;
  /** The fsync in progress, if any. */
  private runningSync: Promise<void> | undefined;
  /** The fsync that starts when the running one ends; shared by everyone who asks meanwhile. */
  private nextSync: Promise<void> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly options: SegmentLogOptions,
  ) {}

  /** Opens the existing segments (recovery has already checked them) or creates the first. */
  static open(dir: string, options: SegmentLogOptions): SegmentLog {
    const log = new SegmentLog(dir, options);
    const files = listSegments(dir);
    try {
      files.forEach((file, i) => {
        const fd = openSync(file.path, i === files.length - 1 ? 'r+' : 'r');
        log.segments.push({ base: file.base, path: file.path, fd, size: fstatSync(fd).size });
      });
      if (log.segments.length === 0) log.createSegment(0);
      // What a previous run left is as durable as it will get: it is not this run's to sync.
      log.syncedEnd = log.end;
    } catch (error) {
      log.close();
      throw error;
    }
    return log;
  }

  /**
   * Opens `files` for reading only, beside a live writer (a read-only store): nothing is created,
   * truncated or written. The log ends at `end`, the end of the last intact frame: past it the
   * writer may be writing a frame right now (see follow).
   */
  static openReadOnly(dir: string, files: readonly SegmentFile[], end: number): SegmentLog {
    const log = new SegmentLog(dir, { segmentSize: Number.MAX_SAFE_INTEGER, syncOnRoll: false });
    try {
      log.follow(files, end);
    } catch (error) {
      log.close();
      throw error;
    }
    return log;
  }

  /**
   * A read-only log takes in what the writer appended: segment files it has not seen are opened,
   * and the log now ends at `end` (a frame boundary the caller scanned up to), or at the newest
   * segment's start when that is later (cleanup leaves gaps between segments; a new segment's first
   * frame may still be being written). Segments before the newest are whole, as the writer sealed them.
   */
  follow(files: readonly SegmentFile[], end: number): void {
    const known = this.segments.at(-1)?.base ?? -1;
    for (const file of files) {
      if (file.base <= known) continue;
      const fd = openSync(file.path, 'r');
      this.segments.push({ base: file.base, path: file.path, fd, size: 0 });
    }
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i] as Segment;
      const next = this.segments[i + 1];
      segment.size =
        next === undefined
          ? Math.max(0, end - segment.base)
          : Math.min(fstatSync(segment.fd).size, next.base - segment.base);
    }
  }

  get end(): number {
    // A read-only log may have no segment yet (the writer is creating the store).
    const last = this.segments.at(-1);
    return last === undefined ? 0 : last.base + last.size;
  }

  /**
   * Whether every segment file this log holds open is still the file at its path: a read-only
   * log's check that the writer replaced (cleanup, restore) or removed none of them.
   */
  sameFiles(): boolean {
    return this.segments.every((segment) => {
      try {
        return statSync(segment.path).ino === fstatSync(segment.fd).ino;
      } catch {
        return false;
      }
    });
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  /** Bytes the segment files hold (less than `end` once cleanup has rewritten or dropped some). */
  get bytes(): number {
    return this.segments.reduce((total, segment) => total + segment.size, 0);
  }

  /** Bytes written to the OS but not yet known to be fsync'ed (see `fsync: 'batch'`). */
  get unsyncedBytes(): number {
    return this.end - this.syncedEnd;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Records are read from the files (the OS page cache keeps hot ones in memory), not held here. */
  get memoryBytes(): number {
    return 0;
  }

  append(frame: Buffer): number {
    if (this.active.size > 0 && this.active.size + frame.length > this.options.segmentSize) {
      try {
        this.roll();
      } catch (error) {
        throw storageError(error, `could not start a new log segment in ${this.dir}; nothing was appended`);
      }
    }
    const segment = this.active;
    const offset = segment.base + segment.size;
    let written = 0;
    try {
      while (written < frame.length) {
        written += writeSync(segment.fd, frame, written, frame.length - written, segment.size + written);
      }
    } catch (error) {
      // Leave the log exactly as it was: a half-written frame would read as a torn tail on restart,
      // but this process would otherwise append after it.
      try {
        ftruncateSync(segment.fd, segment.size);
      } catch {
        /* the original error is the one to report */
      }
      throw storageError(error, `could not write to ${segment.path}; nothing was appended`);
    }
    segment.size += frame.length;
    return offset;
  }

  read(offset: number, length: number): Buffer {
    return this.readInto(offset, length, Buffer.allocUnsafe);
  }

  readInto(offset: number, length: number, scratch: (length: number) => Buffer): Buffer {
    // A reader that outlived the log (a result stream read on after close, or after a restore
    // replaced this log) gets a clear error, not a bad descriptor.
    if (this.segments.length === 0)
      throw new StoreClosedError('this log is closed (the store closed, or a restore replaced its log)');
    const segment = this.segments[this.segmentIndexOf(offset)] as Segment;
    const into = scratch(length);
    if (readFully(segment.fd, into, length, offset - segment.base) < length)
      throw shortRead(segment, offset, length);
    return into.subarray(0, length);
  }

  spanEnd(offset: number): number {
    const segment = this.segments[this.segmentIndexOf(offset)] as Segment;
    return segment.base + segment.size;
  }

  locate(offset: number): { file: string; offset: number } {
    const segment = this.segments[this.segmentIndexOf(offset)] as Segment;
    return { file: segment.path, offset: offset - segment.base };
  }

  /**
   * fsyncs the active segment: group commit. With no fsync running, one starts at once (a lone
   * append waits for nothing else); callers that arrive while one runs all share the next one,
   * which starts when it ends. So N concurrent appends under `fsync: 'always'` cost two fsyncs, not N.
   */
  sync(): Promise<void> {
    if (this.nextSync !== undefined) return this.nextSync;
    const start = (): Promise<void> => {
      this.nextSync = undefined;
      const fd = this.active.fd;
      const end = this.end;
      this.fsyncCount++;
      const running = new Promise<void>((resolve, reject) =>
        fdatasync(fd, (error) => {
          if (error) return reject(error);
          this.syncedEnd = Math.max(this.syncedEnd, end);
          resolve();
        }),
      );
      this.runningSync = running;
      const clear = () => {
        if (this.runningSync === running) this.runningSync = undefined;
      };
      running.then(clear, clear);
      return running;
    };
    const after = this.runningSync;
    if (after === undefined) return start();
    this.nextSync = after.then(start, start);
    return this.nextSync;
  }

  syncNow(): void {
    this.fsyncCount++;
    fdatasyncSync(this.active.fd);
    this.syncedEnd = this.end;
  }

  /** Cuts the log back to `end` (a frame boundary): drops whole later segments, truncates the one holding it. */
  truncate(end: number): void {
    const last = this.active;
    while (this.segments.length > 1 && this.active.base >= end && this.active.base > 0) {
      const segment = this.segments.pop() as Segment;
      closeSync(segment.fd);
      unlinkSync(segment.path);
    }
    const segment = this.active;
    if (segment !== last) {
      // It was opened read-only, as sealed; appends go to it again.
      closeSync(segment.fd);
      segment.fd = openSync(segment.path, 'r+');
    }
    if (segment.base + segment.size > end) {
      ftruncateSync(segment.fd, end - segment.base);
      segment.size = end - segment.base;
      fsyncSync(segment.fd);
    }
    this.syncedEnd = Math.min(this.syncedEnd, this.end);
  }

  close(): void {
    for (const segment of this.segments) closeSync(segment.fd);
    this.segments.length = 0;
  }

  sealedSpans(): { base: number; end: number }[] {
    return this.segments.slice(0, -1).map((s) => ({ base: s.base, end: s.base + s.size }));
  }

  get activeSpan(): { base: number; empty: boolean } {
    return { base: this.active.base, empty: this.active.size === 0 };
  }

  seal(): void {
    if (this.active.size > 0) this.roll();
  }

  beginRewrite(base: number): SpanWriter {
    const segment = this.segments[this.segmentIndexOf(base)] as Segment;
    if (segment.base !== base || segment === this.active)
      throw new RangeError(`no sealed segment at log offset ${base}`);
    const temporary = `${segment.path}.tmp`;
    let fd: number | undefined = openSync(temporary, 'w');
    let size = 0;
    const discard = () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      unlinkSync(temporary);
    };
    return {
      write: (frame) => {
        if (fd === undefined) throw new Error('the rewrite is over');
        for (let done = 0; done < frame.length;) {
          done += writeSync(fd, frame, done, frame.length - done, size + done);
        }
        size += frame.length;
      },
      get size() {
        return size;
      },
      flush: async () => {
        const open = fd;
        if (open === undefined) throw new Error('the rewrite is over');
        await new Promise<void>((resolve, reject) =>
          fdatasync(open, (error) => (error ? reject(error) : resolve())),
        );
      },
      commit: () => {
        if (fd === undefined) throw new Error('the rewrite is over');
        closeSync(fd);
        fd = undefined;
        failpoint('cleanup:span-written');
        renameSync(temporary, segment.path);
        // Reads so far went to the old file through the old descriptor; from here on, the new one.
        const old = segment.fd;
        segment.fd = openSync(segment.path, 'r');
        segment.size = size;
        // Closing the last descriptor of the replaced file frees its blocks, and the directory's
        // fsync makes the rename durable: both can take tens of ms, so off the main thread.
        return Promise.all([closeAsync(old), syncDirectoryAsync(dirname(segment.path))]).then(
          () => undefined,
        );
      },
      abort: discard,
    };
  }

  dropSpans(bases: readonly number[]): Promise<void> {
    const dropped: Segment[] = [];
    for (const base of bases) {
      const index = this.segments.findIndex((s) => s.base === base);
      const segment = this.segments[index];
      if (segment === undefined || segment === this.active) continue;
      this.segments.splice(index, 1);
      dropped.push(segment);
    }
    // Unlinking a large file frees its blocks, tens of ms per segment: off the main thread. The
    // log's recorded start already says these are gone; a crash before the unlinks leaves files
    // that open deletes (log-start.ts).
    const dir = dirname(this.active.path);
    return Promise.all(
      dropped.map(async (segment) => {
        await closeAsync(segment.fd);
        await unlinkAsync(segment.path);
      }),
    ).then(() => (dropped.length > 0 ? syncDirectoryAsync(dir) : undefined));
  }

  private roll(): void {
    const previous = this.active;
    if (this.options.syncOnRoll) {
      fdatasyncSync(previous.fd);
      this.syncedEnd = Math.max(this.syncedEnd, previous.base + previous.size);
    }
    // The new segment first: when it cannot be created (a full disk), the old one stays the active one.
    this.createSegment(previous.base + previous.size);
    const written = previous.fd;
    previous.fd = openSync(previous.path, 'r');
    // A batch fsync (sync()) may be running on the descriptor in the thread pool: closing it under
    // that fsync would fail it (EBADF), or sync whatever file reused the number. Close after it.
    const running = this.runningSync;
    if (running === undefined) closeSync(written);
    else {
      const close = () => closeSync(written);
      running.then(close, close);
    }
  }

  private createSegment(base: number): void {
    const path = segmentPath(this.dir, base);
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'wx+');
    this.segments.push({ base, path, fd, size: 0 });
    if (this.options.syncOnRoll) syncDirectory(dirname(path));
  }

  private segmentIndexOf(offset: number): number {
    return indexByBase(this.segments, offset);
  }
}

function unlinkAsync(path: string): Promise<void> {
  return new Promise((resolve, reject) => unlink(path, (error) => (error ? reject(error) : resolve())));
}

function closeAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}

/** fsyncs a file's data off the main thread. */
export function syncFileAsync(path: string): Promise<void> {
  return syncPathAsync(path, 'r+', true);
}

/** syncDirectory off the main thread. */
export function syncDirectoryAsync(dir: string): Promise<void> {
  return syncPathAsync(dir, 'r', false);
}

async function syncPathAsync(path: string, flags: 'r' | 'r+', dataOnly: boolean): Promise<void> {
  const handle = await open(path, flags);
  try {
    await (dataOnly ? handle.datasync() : handle.sync());
  } finally {
    await handle.close();
  }
}

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function shortRead(segment: Segment, offset: number, length: number): CorruptionError {
  return new CorruptionError(
    segment.path,
    offset - segment.base,
    `the file ends before the ${length}-byte record at log offset ${offset}`,
  );
}

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptionError } from '../../errors.js';
import { writeFileDurablyAsync } from '../../storage/embedded/log/durable-file.js';
import { syncDirectoryAsync } from '../../storage/embedded/log/segment-log.js';
import { storageError } from '../../storage/embedded/log/storage-error.js';

/** A named subscription's committed position. */
export interface StoredPosition {
  readonly position: number;
  /** Epoch milliseconds of the store's clock; null when never committed. */
  readonly committedAt: number | null;
}

/** Where named subscriptions keep their positions. */
export interface PositionStore {
  /** Every stored position, by name. */
  all(): ReadonlyMap<string, StoredPosition>;
  /** A name's position; throws the CorruptionError of a position file that cannot be read. */
  get(name: string): StoredPosition | undefined;
  /** Stores a position; resolves once it survives a crash (on a durable store). */
  save(name: string, position: StoredPosition): Promise<void>;
  /** Resolves once no write is under way (the store is closing). */
  settled(): Promise<void>;
}

/** For a store without a directory: positions last as long as the store handle. */
export class MemoryPositions implements PositionStore {
  private readonly positions = new Map<string, StoredPosition>();

  all(): ReadonlyMap<string, StoredPosition> {
    return this.positions;
  }

  get(name: string): StoredPosition | undefined {
    return this.positions.get(name);
  }

  save(name: string, position: StoredPosition): Promise<void> {
    this.positions.set(name, position);
    return Promise.resolve();
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }
}

/** The folder of the store directory that holds one `<name>.json` per named subscription. */
export const POSITIONS_DIR = 'subscriptions';
const FORMAT = 1;

interface Writer {
  latest: StoredPosition;
  waiting: { resolve: () => void; reject: (error: unknown) => void }[];
  /** The write loop under way, if any. */
  running: Promise<void> | undefined;
}

/**
 * Positions in the store directory, one small file per name (`subscriptions/<name>.json`), each
 * replaced crash-safely (temporary file, fsync, rename, fsync of the folder), so a crash leaves the
 * old position or the new one. One file per name, not one for all: names commit independently and
 * never wait for each other's fsync. Commits of one name that arrive while its file is being written
 * are written together, the latest position winning.
 */
export class FilePositions implements PositionStore {
  private readonly folder: string;
  private readonly positions = new Map<string, StoredPosition>();
  private readonly unreadable = new Map<string, CorruptionError>();
  private readonly writers = new Map<string, Writer>();
  private folderMade = false;

  /** `writable`: false for a read-only handle, which lists positions and never touches a file. */
  constructor(
    dir: string,
    private readonly writable: boolean,
  ) {
    this.folder = join(dir, POSITIONS_DIR);
    this.load();
  }

  /**
   * Reads every position file. A read-only handle calls it again at each refresh: the writer's
   * process commits its subscriptions' positions, and waitFor({ name }) here waits on them.
   */
  load(): void {
    if (!existsSync(this.folder)) return;
    this.folderMade = true;
    let files: string[];
    try {
      files = readdirSync(this.folder);
    } catch {
      return; // the writer is creating it: the next load reads it
    }
    for (const file of files) {
      if (file.endsWith('.json.tmp')) {
        // A write a crash interrupted: the rename never happened, so the old file holds.
        if (this.writable) rmSync(join(this.folder, file), { force: true });
        continue;
      }
      if (!file.endsWith('.json')) continue;
      const name = file.slice(0, -'.json'.length);
      let text: string;
      try {
        text = readFileSync(join(this.folder, file), 'utf8');
      } catch {
        continue; // replaced under a reader between the listing and the read: the next load has it
      }
      try {
        this.positions.set(name, parsePosition(text, name));
        this.unreadable.delete(name);
      } catch (error) {
        this.unreadable.set(
          name,
          new CorruptionError(
            join(this.folder, file),
            0,
            `the subscription position cannot be read (${(error as Error).message})`,
            'Delete the file to start that subscription afresh (from its `after` option).',
          ),
        );
      }
    }
  }

  all(): ReadonlyMap<string, StoredPosition> {
    return this.positions;
  }

  get(name: string): StoredPosition | undefined {
    const damage = this.unreadable.get(name);
    if (damage !== undefined) throw damage;
    return this.positions.get(name);
  }

  save(name: string, position: StoredPosition): Promise<void> {
    let writer = this.writers.get(name);
    if (writer === undefined) {
      writer = { latest: position, waiting: [], running: undefined };
      this.writers.set(name, writer);
    }
    writer.latest = position;
    const written = new Promise<void>((resolve, reject) => writer.waiting.push({ resolve, reject }));
    writer.running ??= this.drain(name, writer);
    return written;
  }

  async settled(): Promise<void> {
    await Promise.all([...this.writers.values()].map((writer) => writer.running));
  }

  private async drain(name: string, writer: Writer): Promise<void> {
    while (writer.waiting.length > 0) {
      const waiting = writer.waiting.splice(0);
      const position = writer.latest;
      try {
        await this.ensureFolder();
        await writeFileDurablyAsync(join(this.folder, `${name}.json`), formatPosition(name, position));
        this.positions.set(name, position);
        this.unreadable.delete(name);
        for (const waiter of waiting) waiter.resolve();
      } catch (error) {
        for (const waiter of waiting) waiter.reject(error);
      }
    }
    writer.running = undefined;
  }

  private async ensureFolder(): Promise<void> {
    if (this.folderMade) return;
    try {
      await mkdir(this.folder, { recursive: true });
      // The folder's own entry must survive a crash too, or the files in it go with it.
      await syncDirectoryAsync(join(this.folder, '..'));
    } catch (error) {
      throw storageError(error, `could not create ${this.folder}`);
    }
    this.folderMade = true;
  }
}

function formatPosition(name: string, position: StoredPosition): string {
  const committedAt = position.committedAt === null ? null : new Date(position.committedAt).toISOString();
  return `${JSON.stringify({ format: FORMAT, name, position: position.position, committedAt })}\n`;
}

function parsePosition(text: string, name: string): StoredPosition {
  const value = JSON.parse(text) as Record<string, unknown>;
  if (value.format !== FORMAT) throw new Error(`unknown format ${JSON.stringify(value.format)}`);
  if (value.name !== name) throw new Error(`it names ${JSON.stringify(value.name)}`);
  const position = value.position;
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
    throw new Error(`position ${JSON.stringify(position)} is not a sequence`);
  }
  const committedAt = value.committedAt === null ? null : Date.parse(String(value.committedAt));
  if (committedAt !== null && Number.isNaN(committedAt)) throw new Error('committedAt is not a time');
  return { position, committedAt };
}

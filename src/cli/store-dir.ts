import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openEventStore, type EventStore } from '../index.js';
import { readPolicyFile } from '../storage/embedded/retention/policy-file.js';
import type { RetentionOptions } from '../retention/policy.js';
import { UsageError } from './errors.js';

/**
 * Read-only commands must not create an empty store by accident (a typo in --dir would otherwise
 * "succeed" with zero events), so they require the store's manifest to exist.
 */
export function requireExistingStore(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(
      `store directory ${dir} does not exist; create a store with \`tamma-events ingest --dir ${dir} FILE\``,
    );
  }
  if (!existsSync(join(dir, 'store.json'))) {
    throw new UsageError(`${dir} is not an event store (no store.json in it); check --dir`);
  }
}

/**
 * Writing commands create a store, but only where one belongs: in a new or empty directory. A
 * mistyped `--dir .` must not turn a project folder into an event store.
 */
export function requireStoreOrEmptyDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--dir ${dir} is a file, not a directory`);
  if (existsSync(join(dir, 'store.json'))) return;
  if (readdirSync(dir).length > 0) {
    throw new UsageError(
      `${dir} is neither an event store nor empty; pass a new or empty directory to create a store`,
    );
  }
}

/**
 * Opens an existing store under the retention policy its application last set (retention.json), so
 * a tool sees and cleans what the application would: every command that opens a store uses this,
 * so `stats` counts the events `query` prints. The policy is passed as recorded, so opening records
 * nothing new; a relative `archive.dir` in it resolves against the store directory, as in the library.
 */
export async function openWithRecordedPolicy(
  dir: string,
  access: { readOnly?: boolean; followIntervalMs?: number } = {},
): Promise<{ store: EventStore; retention: RetentionOptions | undefined }> {
  requireExistingStore(dir);
  const retention = readPolicyFile(dir);
  const store =
    access.readOnly === true
      ? await openForReading(dir, retention, access.followIntervalMs)
      : await openEventStore({ dir, ...(retention === undefined ? {} : { retention }) });
  return { store, retention };
}

/**
 * Opens an existing store for a command that only reads (query, stats, explain, index list…):
 * read-only, so it works while the application holds the store (no STORE_LOCKED) and changes no
 * file, not even a torn tail or a checkpoint. It reads the store as it is at this moment.
 */
export async function openForReading(
  dir: string,
  retention?: RetentionOptions,
  /** How often to look for the writer's new appends (`subscribe` follows it); 0: never. */
  followIntervalMs = 0,
): Promise<EventStore> {
  requireExistingStore(dir);
  return openEventStore({
    dir,
    readOnly: true,
    followIntervalMs,
    ...(retention === undefined ? {} : { retention }),
  });
}

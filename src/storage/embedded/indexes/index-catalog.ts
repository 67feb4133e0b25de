import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { INDEX_CATALOG_FILE } from '../log/segment-files.js';
import { writeFileDurably } from '../log/durable-file.js';
import {
  resolveIndexDefinition,
  sameShape,
  type ResolvedIndexDefinition,
} from '../../../indexes/index-definition.js';
import { UserIndex } from './user-index.js';

/** How often the planner used an index, kept across restarts for getIndexUsage and the advisor. */
export interface UsageRecord {
  uses: number;
  lastUsed: number | null;
}

interface Catalog {
  version: 1;
  indexes: (ResolvedIndexDefinition & { createdAt: number } & Partial<UsageRecord>)[];
  builtInUse?: Record<string, UsageRecord>;
}

export type CatalogEntry = Catalog['indexes'][number];

export interface IndexCatalog {
  indexes: CatalogEntry[];
  builtInUse: Record<string, UsageRecord>;
}

/**
 * The user-defined indexes' definitions, in `indexes.json`. A definition is written once its index
 * is built (so a crash mid-build leaves no half index behind), by temp file, fsync and rename, so
 * the file is always the old list or the new one.
 */
export function readIndexCatalog(dir: string): IndexCatalog {
  const path = join(dir, INDEX_CATALOG_FILE);
  if (!existsSync(path)) return { indexes: [], builtInUse: {} };
  try {
    const catalog = JSON.parse(readFileSync(path, 'utf8')) as Catalog;
    const indexes = catalog.indexes.map((entry) => ({
      ...resolveIndexDefinition({
        name: entry.name,
        fields: entry.fields,
        type: entry.type,
        unique: entry.unique,
        ...(entry.where ? { where: entry.where } : {}),
      }),
      createdAt: entry.createdAt,
      uses: entry.uses ?? 0,
      lastUsed: entry.lastUsed ?? null,
    }));
    return { indexes, builtInUse: catalog.builtInUse ?? {} };
  } catch (error) {
    throw new CorruptionError(
      path,
      0,
      `index definitions are unreadable (${(error as Error).message}); restore the file, or delete it to drop every user-defined index`,
    );
  }
}

export function writeIndexCatalog(dir: string, contents: IndexCatalog): void {
  const catalog: Catalog = { version: 1, indexes: contents.indexes, builtInUse: contents.builtInUse };
  writeFileDurably(join(dir, INDEX_CATALOG_FILE), `${JSON.stringify(catalog, null, 2)}\n`);
}

/** What `indexes.json` says of the ready indexes: their definitions and usage, and the built-ins' usage. */
export function catalogOf(
  ready: Iterable<UserIndex>,
  builtInUse: ReadonlyMap<string, { uses: number; lastUsed: number }>,
): IndexCatalog {
  return {
    indexes: [...ready].map((index) => ({
      ...index.definition,
      createdAt: index.createdAt,
      uses: index.uses,
      lastUsed: index.lastUsed ?? null,
    })),
    builtInUse: Object.fromEntries(builtInUse),
  };
}

/**
 * The index a catalog entry opens as: the checkpoint's snapshot when it matches the definition and
 * is not ahead of the table's `rows` (it then catches up with the log replayed after it), else a new
 * empty one to build whole.
 */
export function openedIndex(entry: CatalogEntry, snapshots: readonly UserIndex[], rows: number): UserIndex {
  const saved = snapshots.find(
    (index) =>
      index.name === entry.name &&
      sameShape(index.definition, entry) &&
      !index.gapsUnknown &&
      index.indexedRows <= rows,
  );
  const index = saved ?? new UserIndex(entry, entry.createdAt);
  // The catalog's counts are the newest: close() saves them even when no checkpoint is written.
  index.uses = Math.max(index.uses, entry.uses ?? 0);
  index.lastUsed = entry.lastUsed ?? index.lastUsed;
  return index;
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { INDEX_CATALOG_FILE } from '../log/segment-files.js';
import { writeFileDurably } from '../log/durable-file.js';
import { resolveIndexDefinition, type ResolvedIndexDefinition } from '../../../indexes/index-definition.js';

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

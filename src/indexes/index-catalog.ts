import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../errors.js';
import { INDEX_CATALOG_FILE } from '../storage/embedded/segment-files.js';
import { syncDirectory } from '../storage/embedded/segment-log.js';
import { resolveIndexDefinition, type ResolvedIndexDefinition } from './index-definition.js';

interface Catalog {
  version: 1;
  indexes: (ResolvedIndexDefinition & { createdAt: number })[];
}

export type CatalogEntry = Catalog['indexes'][number];

/**
 * The user-defined indexes' definitions, in `indexes.json`. A definition is written once its index
 * is built (so a crash mid-build leaves no half index behind), by temp file, fsync and rename, so
 * the file is always the old list or the new one.
 */
export function readIndexCatalog(dir: string): CatalogEntry[] {
  const path = join(dir, INDEX_CATALOG_FILE);
  if (!existsSync(path)) return [];
  try {
    const catalog = JSON.parse(readFileSync(path, 'utf8')) as Catalog;
    return catalog.indexes.map((entry) => ({
      ...resolveIndexDefinition({
        name: entry.name,
        fields: entry.fields,
        type: entry.type,
        unique: entry.unique,
        ...(entry.where ? { where: entry.where } : {}),
      }),
      createdAt: entry.createdAt,
    }));
  } catch (error) {
    throw new CorruptionError(path, 0, `index definitions are unreadable (${(error as Error).message})`);
  }
}

export function writeIndexCatalog(dir: string, indexes: readonly CatalogEntry[]): void {
  const path = join(dir, INDEX_CATALOG_FILE);
  const temporary = `${path}.tmp`;
  const catalog: Catalog = { version: 1, indexes: [...indexes] };
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify(catalog, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(dir);
}

// Engine factory by name, so child-process tasks take plain JSON arguments.
import { createDuckdb } from './duckdb.mjs';
import { createNaive } from './naive.mjs';
import { createSqlite } from './sqlite.mjs';
import { createTamma } from './tamma.mjs';

/**
 * @param {'tamma' | 'sqlite' | 'duckdb' | 'naive'} kind
 * @param {object} options tamma: { dir?, fsync?, open? }; sqlite: { dir, synchronous?, tagIndex?,
 *   schemaIndexes? }; duckdb: { dir, threads? }
 */
export async function createEngine(kind, options = {}) {
  if (kind === 'tamma') return createTamma(options);
  if (kind === 'sqlite') return createSqlite(options);
  if (kind === 'duckdb') return createDuckdb(options);
  if (kind === 'naive') return createNaive();
  throw new Error(`unknown engine ${kind}`);
}

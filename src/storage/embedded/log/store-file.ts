import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TammaError } from '../../../errors.js';
import { LOCK_FILE, STORE_FILE } from './segment-files.js';

const FORMAT = 'tamma-events';
const VERSION = 1;

/**
 * Makes sure `dir` can hold a store before anything is written there: it must be a directory (it is
 * created if missing), and a non-empty one must already be a store, so a typo in `dir` never
 * scatters store files among someone else's.
 */
export function prepareStoreDirectory(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new TammaError('NOT_A_STORE', `dir: ${dir} exists and is not a directory; give a directory path`);
  }
  mkdirSync(dir, { recursive: true });
  refuseForeignDirectory(dir, true);
}

/**
 * Refuses a non-empty directory that is not a store. Before the lock is taken (`beforeLock`), files
 * another opener is creating right now must not count: every opener creates LOCK before any other
 * file, so when LOCK exists after the listing, the check is left to the lock's holder (open calls
 * this again once it holds the lock).
 */
export function refuseForeignDirectory(dir: string, beforeLock = false): void {
  if (!existsSync(join(dir, STORE_FILE))) {
    const others = readdirSync(dir).filter((name) => name !== LOCK_FILE);
    if (others.length > 0 && !(beforeLock && existsSync(join(dir, LOCK_FILE)))) {
      throw new TammaError(
        'NOT_A_STORE',
        `dir: ${dir} is not empty and is not a Tamma Events store (no ${STORE_FILE}; found ${others.slice(0, 3).join(', ')}); ` +
          'give an empty or new directory',
      );
    }
  }
}

/** Marks a directory as a Tamma store and records its format version, so a future format refuses old code. */
export function ensureStoreFile(dir: string): void {
  const path = join(dir, STORE_FILE);
  if (!existsSync(path)) {
    writeFileSync(path, `${JSON.stringify({ format: FORMAT, version: VERSION }, null, 2)}\n`);
    return;
  }
  let meta: { format?: unknown; version?: unknown };
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as typeof meta;
  } catch (error) {
    throw new TammaError('NOT_A_STORE', `${path} is not readable JSON: ${(error as Error).message}`);
  }
  if (meta.format !== FORMAT)
    throw new TammaError('NOT_A_STORE', `${path} does not describe a Tamma Events store`);
  if (meta.version !== VERSION) {
    throw new TammaError(
      'UNSUPPORTED_FORMAT',
      `${path} has format version ${String(meta.version)}; this build reads version ${VERSION}`,
    );
  }
}

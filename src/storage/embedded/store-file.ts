import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TammaError } from '../../errors.js';
import { STORE_FILE } from './segment-files.js';

const FORMAT = 'tamma-events';
const VERSION = 1;

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

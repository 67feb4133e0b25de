import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CorruptionError, TammaError } from '../../../errors.js';
import { readIndexCatalog } from '../indexes/index-catalog.js';
import { MANIFEST, readManifest } from '../retention/archive.js';
import { readPolicyFile } from '../retention/policy-file.js';
import { parseTombstones } from '../retention/tombstone-records.js';
import { TOMBSTONE_FILE } from '../retention/tombstones.js';
import { STORE_FILE } from '../log/segment-files.js';
import { ensureStoreFile } from '../log/store-file.js';
import type { VerifyProblem } from './verify-types.js';

/**
 * The store's files other than the log, its start record and the checkpoint (verify.ts reads those
 * with the log), each read and checked as open reads it: `store.json`, `tombstones.log`, `indexes.json`, `retention.json` and the
 * manifest of the archive it names. A problem per damaged file, with the offset where the damage
 * starts; nothing is changed.
 */
export function verifyStoreFiles(dir: string, problems: VerifyProblem[]): void {
  const corrupt = (file: string, error: unknown) => {
    if (error instanceof CorruptionError) {
      problems.push({ file: error.file, offset: error.offset, kind: 'corrupt-file', detail: error.detail });
    } else if (error instanceof TammaError) {
      problems.push({ file, offset: 0, kind: 'corrupt-file', detail: error.message });
    } else {
      throw error;
    }
  };
  // Exists (verify checked): ensureStoreFile only reads it then.
  const storeFile = join(dir, STORE_FILE);
  try {
    ensureStoreFile(dir);
  } catch (error) {
    corrupt(storeFile, error);
  }
  const tombstones = join(dir, TOMBSTONE_FILE);
  if (existsSync(tombstones)) {
    try {
      const { torn } = parseTombstones(tombstones, readFileSync(tombstones));
      if (torn !== undefined) {
        problems.push({
          file: tombstones,
          offset: torn.offset,
          kind: 'torn-tail',
          detail: `the last ${torn.bytes} bytes are a deletion a crash cut short (never acknowledged); opening ignores them`,
        });
      }
    } catch (error) {
      corrupt(tombstones, error);
    }
  }
  try {
    readIndexCatalog(dir);
  } catch (error) {
    corrupt(join(dir, 'indexes.json'), error);
  }
  let archiveDir: string | undefined;
  try {
    archiveDir = readPolicyFile(dir)?.archive?.dir;
  } catch (error) {
    corrupt(join(dir, 'retention.json'), error);
  }
  if (archiveDir !== undefined) {
    // A relative archive path is looked for from the store directory; an archive not found there
    // (or not yet written) has no manifest to check.
    const archive = isAbsolute(archiveDir) ? archiveDir : resolve(dir, archiveDir);
    try {
      readManifest(archive);
    } catch (error) {
      corrupt(join(archive, MANIFEST), error);
    }
  }
}

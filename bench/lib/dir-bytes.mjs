import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes of every file under `dir`; a file removed while it is counted (a rewrite's temp file) is skipped. */
export async function dirBytes(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    try {
      total += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

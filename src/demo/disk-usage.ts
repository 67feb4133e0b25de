import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Total bytes of the files under `dir`, recursively; 0 when it does not exist. */
export function diskUsage(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? diskUsage(path) : statSync(path).size;
  }
  return total;
}

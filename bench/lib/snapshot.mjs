// Copies the built library into the run's temp dir, so that every child process of a run loads the
// same build even if someone runs `npm run build` meanwhile.
import { cp, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Returns the path of the snapshot's index.js; its imports of dependencies resolve to ./node_modules. */
export async function snapshotLibrary(tmp) {
  const lib = join(tmp, 'library');
  await cp(join(ROOT, 'dist'), join(lib, 'dist'), { recursive: true });
  await writeFile(join(lib, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await symlink(join(ROOT, 'node_modules'), join(lib, 'node_modules'), 'dir');
  const entry = join(lib, 'dist', 'index.js');
  await import(pathToFileURL(entry).href); // fail now, not in the third child, if the build is broken
  return entry;
}

import { EmbeddedEventStore } from './embedded-store.js';
import type { ResolvedOptions } from '../../store/options.js';
import { loadSnapshot, requireStoreForReading } from './read-only.js';

/**
 * Opens an existing store read-only, beside its writer in another process: no lock, no file changed
 * (see read-only.ts for how it follows the writer).
 */
export function openReadOnly(options: ResolvedOptions, dir: string): EmbeddedEventStore {
  requireStoreForReading(dir);
  const snapshot = loadSnapshot(dir, options.verifyOnOpen);
  const { table, log } = snapshot;
  try {
    const store = new EmbeddedEventStore(options, table, log, {
      dir,
      log,
      lock: { release: () => undefined },
      checkpointRows: snapshot.checkpointRows,
      readOnly: { stamps: snapshot.stamps, cut: snapshot.cut },
    });
    store.openIndexes(snapshot.cut, snapshot.userIndexes);
    return store;
  } catch (error) {
    log.close();
    throw error;
  }
}

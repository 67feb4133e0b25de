import { EmbeddedEngine } from './embedded-engine.js';
import type { ResolvedOptions } from './embedded-options.js';
import type { EngineContext } from '../storage-engine.js';
import { loadSnapshot, requireStoreForReading } from './read-only.js';

/**
 * Opens an existing store read-only, beside its writer in another process: no lock, no file changed
 * (see read-only.ts for how it follows the writer).
 */
export function openReadOnly(options: ResolvedOptions, context: EngineContext, dir: string): EmbeddedEngine {
  requireStoreForReading(dir);
  const snapshot = loadSnapshot(dir, options.verifyOnOpen);
  const { table, log } = snapshot;
  try {
    const engine = new EmbeddedEngine(options, context, table, log, {
      dir,
      log,
      lock: { release: () => undefined },
      checkpointRows: snapshot.checkpointRows,
      readOnly: { stamps: snapshot.stamps, cut: snapshot.cut },
    });
    engine.openIndexes(snapshot.cut, snapshot.userIndexes);
    return engine;
  } catch (error) {
    log.close();
    throw error;
  }
}

import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  AppendThroughput,
  CleanupEffectiveness,
  LatencyReport,
  LatencyWindow,
} from '../../store/store-monitor.js';

/** The monitor's folder in a durable store's directory. */
export const MONITOR_DIR = 'monitor';

/** The slow-query log (JSON Lines; rotated ones are slow-queries.1.jsonl, .2 …, oldest highest). */
export const slowQueryPath = (dir: string): string => join(dir, MONITOR_DIR, 'slow-queries.jsonl');
export const snapshotPath = (dir: string): string => join(dir, MONITOR_DIR, 'snapshot.json');

/**
 * The monitor's figures as the process that has the store open last wrote them: what
 * `tamma-events stats` shows, since the monitor's sketches live in that process.
 */
export interface MonitorSnapshot {
  writtenAt: string;
  latency: Record<LatencyWindow, LatencyReport>;
  appends: AppendThroughput;
  cleanup: CleanupEffectiveness;
  queries: { total: number; indexed: number; scans: number; slow: number };
  /** The result cache's counts, or null when the store has none connected. */
  cache: { hits: number; misses: number; hitRate: number | null } | null;
}

/** Written whole to a temporary file and renamed over the old one: a reader never sees half of it. */
export async function writeSnapshot(dir: string, snapshot: MonitorSnapshot): Promise<void> {
  const path = snapshotPath(dir);
  await mkdir(join(dir, MONITOR_DIR), { recursive: true });
  await writeFile(`${path}.tmp`, `${JSON.stringify(snapshot, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** The last snapshot, or undefined when none was written (a store no monitored process has used). */
export async function readSnapshot(dir: string): Promise<MonitorSnapshot | undefined> {
  try {
    return JSON.parse(await readFile(snapshotPath(dir), 'utf8')) as MonitorSnapshot;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

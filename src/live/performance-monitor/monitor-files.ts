import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  AppendThroughput,
  CleanupEffectiveness,
  LatencyReport,
  LatencyWindow,
  SlowQueryEntry,
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

/**
 * The last snapshot, or undefined when there is none to show: none written yet (a store no monitored
 * process has used), or one that does not parse (figures, not data: nothing to repair).
 */
export async function readSnapshot(dir: string): Promise<MonitorSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(snapshotPath(dir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const snapshot = JSON.parse(text) as MonitorSnapshot;
    return snapshot?.latency?.all?.methods === undefined ? undefined : snapshot;
  } catch {
    return undefined;
  }
}

/**
 * The slow-query log as written, oldest entry first: the rotated files (highest number first),
 * then the current one. A line that does not parse (cut short by a crash) is counted, not returned.
 */
export async function readSlowQueryLog(
  dir: string,
): Promise<{ entries: SlowQueryEntry[]; badLines: number }> {
  const folder = join(dir, MONITOR_DIR);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], badLines: 0 };
    throw error;
  }
  const rotation = (name: string): number | undefined => {
    if (name === 'slow-queries.jsonl') return 0;
    const match = /^slow-queries\.(\d+)\.jsonl$/.exec(name);
    return match === null ? undefined : Number(match[1]);
  };
  const files = names
    .map((name) => ({ name, n: rotation(name) }))
    .filter((file): file is { name: string; n: number } => file.n !== undefined)
    .sort((a, b) => b.n - a.n);
  const entries: SlowQueryEntry[] = [];
  let badLines = 0;
  for (const { name } of files) {
    const text = await readFile(join(folder, name), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        entries.push(JSON.parse(line) as SlowQueryEntry);
      } catch {
        badLines++;
      }
    }
  }
  return { entries, badLines };
}

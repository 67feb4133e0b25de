import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Layout of a store directory. */
export const LOG_DIR = 'log';
export const CHECKPOINT_FILE = 'checkpoint.bin';
export const STORE_FILE = 'store.json';
export const LOCK_FILE = 'LOCK';
/** Definitions of user-defined indexes; their contents live in the checkpoint. */
export const INDEX_CATALOG_FILE = 'indexes.json';

const SEGMENT_NAME = /^(\d{20})\.seg$/;

export interface SegmentFile {
  /** Global log offset of the segment's first byte. */
  base: number;
  path: string;
}

export function segmentPath(dir: string, base: number): string {
  return join(dir, LOG_DIR, `${String(base).padStart(20, '0')}.seg`);
}

/** The segment files of a store directory, in log order. */
export function listSegments(dir: string): SegmentFile[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, LOG_DIR));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match) segments.push({ base: Number(match[1]), path: join(dir, LOG_DIR, name) });
  }
  return segments.sort((a, b) => a.base - b.base);
}

import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in bulk: one syscall per 4096 ids instead of one per id.
const POOL_IDS = 4096;
const pool = Buffer.allocUnsafe(POOL_IDS * 10);
let poolIndex = POOL_IDS;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids sort by creation time,
 * which keeps them friendly to B-tree indexes in the PostgreSQL backend.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  if (poolIndex === POOL_IDS) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  const r = poolIndex++ * 10;
  const ms = Math.max(0, Math.floor(nowMs));
  const hi = Math.floor(ms / 2 ** 16) % 2 ** 32;
  const lo = ms % 2 ** 16;
  const h = (n: number) => HEX[n & 0xff] as string;
  return (
    h(hi >>> 24) +
    h(hi >>> 16) +
    h(hi >>> 8) +
    h(hi) +
    '-' +
    h(lo >>> 8) +
    h(lo) +
    '-' +
    h(0x70 | (pool[r]! & 0x0f)) +
    h(pool[r + 1]!) +
    '-' +
    h(0x80 | (pool[r + 2]! & 0x3f)) +
    h(pool[r + 3]!) +
    '-' +
    h(pool[r + 4]!) +
    h(pool[r + 5]!) +
    h(pool[r + 6]!) +
    h(pool[r + 7]!) +
    h(pool[r + 8]!) +
    h(pool[r + 9]!)
  );
}

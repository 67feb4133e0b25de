/**
 * Recently read log blocks, least recently used evicted first. Small reads of nearby events then
 * cost a memory copy instead of a system call each.
 */
export class BlockCache {
  private readonly blocks = new Map<number, { bytes: Buffer; valid: number }>();
  private size = 0;

  constructor(private readonly budget: number) {}

  get enabled(): boolean {
    return this.budget > 0;
  }

  /** The cached block, if it holds at least `needed` valid bytes. */
  get(key: number, needed: number): Buffer | undefined {
    const entry = this.blocks.get(key);
    if (entry === undefined || entry.valid < needed) return undefined;
    this.blocks.delete(key);
    this.blocks.set(key, entry);
    return entry.bytes;
  }

  set(key: number, bytes: Buffer, valid: number): void {
    const old = this.blocks.get(key);
    if (old !== undefined) {
      this.size -= old.bytes.length;
      this.blocks.delete(key);
    }
    this.blocks.set(key, { bytes, valid });
    this.size += bytes.length;
    for (const [oldest, entry] of this.blocks) {
      if (this.size <= this.budget) break;
      this.blocks.delete(oldest);
      this.size -= entry.bytes.length;
    }
  }

  clear(): void {
    this.blocks.clear();
    this.size = 0;
  }

  get bytes(): number {
    return this.size;
  }
}

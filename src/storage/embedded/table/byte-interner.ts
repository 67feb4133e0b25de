const MULTIPLIER = 0x5bd1e995;

/**
 * `view`'s bytes `[start..end)` as int32 words, the unit ByteInterner hashes and compares: each
 * whole word from `start`, and for a length that is not a multiple of 4, one more word ending at `end`
 * (overlapping the one before). Names shorter than 4 bytes are one word of their bytes, zero-padded.
 * Words come from unaligned DataView reads: for names of a few words, twice as fast as combining bytes.
 */
function lastWord(view: DataView, start: number, end: number): number {
  if (end - start >= 4) return view.getInt32(end - 4, true);
  let value = 0;
  for (let at = end - 1; at >= start; at--) value = (value << 8) | view.getUint8(at);
  return value;
}

/** A 32-bit hash of `view`'s bytes `[start..end)`: a multiply-xorshift mix per word, as in MurmurHash2. */
export function hashBytes(view: DataView, start: number, end: number): number {
  let hash = 0x811c9dc5 ^ (end - start);
  let at = start;
  for (; at + 4 <= end; at += 4) {
    hash = Math.imul(hash ^ view.getInt32(at, true), MULTIPLIER);
    hash ^= hash >>> 15;
  }
  if (at < end) {
    hash = Math.imul(hash ^ lastWord(view, start, end), MULTIPLIER);
    hash ^= hash >>> 15;
  }
  hash = Math.imul(hash ^ (hash >>> 13), MULTIPLIER);
  return hash ^ (hash >>> 15);
}

/** How many words a name of `length` bytes takes. */
function wordCount(length: number): number {
  return (length + 3) >>> 2;
}

/** A copy of a name's bytes as words, for comparing with sameBytes. */
export function toWords(view: DataView, start: number, end: number): Int32Array {
  const words = new Int32Array(wordCount(end - start));
  writeWords(words, 0, view, start, end);
  return words;
}

function writeWords(words: Int32Array, position: number, view: DataView, start: number, end: number): void {
  let at = start;
  for (; at + 4 <= end; at += 4) words[position++] = view.getInt32(at, true);
  if (at < end) words[position] = lastWord(view, start, end);
}

/** Whether `view`'s bytes `[start..end)` are those stored at `words[position..]` (by writeWords). */
function sameWords(words: Int32Array, position: number, view: DataView, start: number, end: number): boolean {
  let at = start;
  for (; at + 4 <= end; at += 4) if (words[position++] !== view.getInt32(at, true)) return false;
  return at === end || words[position] === lastWord(view, start, end);
}

/** Whether `view`'s bytes `[start..end)` are the name `words` (from toWords) of `length` bytes. */
export function sameBytes(
  words: Int32Array,
  length: number,
  view: DataView,
  start: number,
  end: number,
): boolean {
  return end - start === length && sameWords(words, 0, view, start, end);
}

/**
 * Maps byte strings to dictionary ids: the replay path's way to skip making a JS string (and hashing
 * it again in a Map) for each of the millions of names it reads that it has seen before.
 *
 * A cache in front of a dictionary, not a dictionary: the caller decodes and interns a name the first
 * time its bytes are seen, then `add`s them here. Equal bytes decode to equal strings, so a hit is
 * always the right id (a decoder that mapped different bytes to one string, as UTF-8 does with
 * invalid sequences, would only cost an extra entry).
 *
 * Nothing on the JS heap, and compact, because the big dictionary (aggregate ids) is looked up at
 * random: an open-addressing table of 8-byte slots (hash, entry position + 1; 0 = empty) at most half
 * full, and an arena of entries (length, id, then the name as words). A hit reads one slot and one
 * run of arena words. About 20 bytes a name plus its bytes: meant to live as long as one replay.
 */
export class ByteInterner {
  private slots: Int32Array;
  private mask: number;
  private count = 0;
  private arena: Int32Array;
  private arenaLength = 0;

  constructor(capacity = 16) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
    this.arena = new Int32Array(size * 4);
  }

  /** The id added for `view`'s bytes `[start..end)`, whose hashBytes is `hash`; -1 if none was. */
  find(view: DataView, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const arena = this.arena;
    const mask = this.mask;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[2 * slot + 1] as number;
      if (entry === 0) return -1;
      if (
        slots[2 * slot] === hash &&
        arena[entry - 1] === length &&
        sameWords(arena, entry + 1, view, start, end)
      )
        return arena[entry] as number;
    }
  }

  /** Records that `view`'s bytes `[start..end)` (hashBytes `hash`, not added before) stand for `id`. */
  add(view: DataView, start: number, end: number, hash: number, id: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const position = this.arenaLength;
    const size = 2 + wordCount(end - start);
    if (position + size > this.arena.length) {
      let grownSize = this.arena.length * 2;
      while (grownSize < position + size) grownSize *= 2;
      const grown = new Int32Array(grownSize);
      grown.set(this.arena.subarray(0, position));
      this.arena = grown;
    }
    this.arena[position] = end - start;
    this.arena[position + 1] = id;
    writeWords(this.arena, position + 2, view, start, end);
    this.arenaLength = position + size;
    this.insert(hash, position + 1);
    this.count++;
  }

  private insert(hash: number, entry: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let slot = hash & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = entry;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    for (let at = 0; at < old.length; at += 2) {
      const entry = old[at + 1] as number;
      if (entry !== 0) this.insert(old[at] as number, entry);
    }
  }
}

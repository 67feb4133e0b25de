import { CHUNK_ROWS, CHUNK_SHIFT } from '../../table/chunked-column.js';
import type { CodeSource, NumberSource } from './dense-fold.js';

/**
 * Group keys and numbers described as plain data over column chunks, so that a scan worker, which
 * holds the chunks (shared memory) but not the table, can read them as the main thread does.
 */

/**
 * A column's chunks by name: a core column (`timestamp`, `typeId`, `aggregateId`, `version`), or a
 * field column's numbers (`<field>#numbers`) or codes (`<field>#codes`).
 */
export type ChunkKey = string;

export const fieldNumbersKey = (field: string): ChunkKey => `${field}#numbers`;
export const fieldCodesKey = (field: string): ChunkKey => `${field}#codes`;

/** What a chunk the column does not hold reads as: NaN numbers, no code (-1), else 0 (ChunkedColumn's fills). */
export function missingValueOf(key: ChunkKey): number {
  if (key.endsWith('#numbers')) return Number.NaN;
  if (key.endsWith('#codes')) return -1;
  return 0;
}

export type ChunkArray = Float64Array | Uint32Array | Int32Array;

/** The chunks of columns by key and chunk index. */
export interface ChunkReader {
  chunk(key: ChunkKey, index: number): ChunkArray | undefined;
}

/** A group key as data: codes straight from a column (a missing code mapped to `missing`), or a fixed-width time bucket. */
export type CodeSpec =
  | {
      readonly kind: 'codes';
      readonly key: ChunkKey;
      readonly cardinality: number;
      /** The code rows with no code (-1) take. */
      readonly missing?: number;
    }
  | {
      readonly kind: 'bucket';
      readonly origin: number;
      readonly width: number;
      /** The first bucket's number on the grid: codes count from it. */
      readonly first: number;
      readonly cardinality: number;
    }
  | {
      /**
       * Hopping windows `[k·every, k·every + size)`: in pass j a row at time t takes window
       * k = ⌊t / every⌋ − j when that window still holds t, else the discard code (the last one).
       * Codes count from window `first`; `passes` = ⌈size / every⌉ passes give a row every window.
       */
      readonly kind: 'window';
      readonly every: number;
      readonly size: number;
      readonly first: number;
      /** Windows plus the discard code. */
      readonly cardinality: number;
      readonly passes: number;
    };

/** A number per row as data: a column's value, or the row's sequence (row + 1). */
export type NumberSpec = { readonly kind: 'column'; readonly key: ChunkKey } | { readonly kind: 'sequence' };

const CHUNK_MASK = CHUNK_ROWS - 1;

/** The column's values of the rows (ascending) into `out`: chunk copies where rows run without a gap. */
export function gatherChunks(
  reader: ChunkReader,
  key: ChunkKey,
  rows: Int32Array,
  out: Float64Array | Int32Array,
): void {
  const n = rows.length;
  const missing = missingValueOf(key);
  if (n > 0 && (rows[n - 1] as number) - (rows[0] as number) === n - 1) {
    for (let i = 0; i < n;) {
      const row = rows[i] as number;
      const offset = row & CHUNK_MASK;
      const take = Math.min(n - i, CHUNK_ROWS - offset);
      const chunk = reader.chunk(key, row >>> CHUNK_SHIFT);
      if (chunk === undefined) out.fill(missing, i, i + take);
      else out.set(chunk.subarray(offset, offset + take), i);
      i += take;
    }
    return;
  }
  let index = -1;
  let chunk: ChunkArray | undefined;
  for (let i = 0; i < n; i++) {
    const row = rows[i] as number;
    if (row >>> CHUNK_SHIFT !== index) {
      index = row >>> CHUNK_SHIFT;
      chunk = reader.chunk(key, index);
    }
    out[i] = chunk === undefined ? missing : (chunk[row & CHUNK_MASK] as number);
  }
}

/** The chunk keys a spec reads. */
export function keysOf(spec: CodeSpec | NumberSpec): ChunkKey[] {
  if (spec.kind === 'codes' || spec.kind === 'column') return [spec.key];
  return spec.kind === 'bucket' || spec.kind === 'window' ? ['timestamp'] : [];
}

/** A group key read from chunks (valueOf is the main thread's: a worker only makes codes). */
export function codeSourceOf(spec: CodeSpec, reader: ChunkReader, blockRows: number): CodeSource {
  if (spec.kind === 'codes') {
    const missing = spec.missing;
    return {
      column: spec.key,
      cardinality: spec.cardinality,
      codes(rows, out) {
        gatherChunks(reader, spec.key, rows, out);
        if (missing !== undefined) for (let i = 0; i < rows.length; i++) if (out[i] === -1) out[i] = missing;
      },
      valueOf: (code) => code,
    };
  }
  const times = new Float64Array(blockRows);
  if (spec.kind === 'window') return windowSource(spec, reader, times);
  const { origin, width, first } = spec;
  return {
    column: 'bucket',
    cardinality: spec.cardinality,
    codes(rows, out) {
      gatherChunks(reader, 'timestamp', rows, times);
      for (let i = 0; i < rows.length; i++)
        out[i] = Math.floor(((times[i] as number) - origin) / width) - first;
    },
    valueOf: (code) => origin + (code + first) * width,
  };
}

function windowSource(
  spec: Extract<CodeSpec, { kind: 'window' }>,
  reader: ChunkReader,
  times: Float64Array,
): CodeSource {
  const { every, size, first, passes } = spec;
  const discard = spec.cardinality - 1;
  const startOf = (code: number) => (code + first) * every;
  // The block's times and latest windows, from pass 0 (a block's passes come in order, 0 first):
  // a later pass only steps back from them.
  const latest = new Float64Array(times.length);
  return {
    column: 'windowStart',
    cardinality: spec.cardinality,
    passes,
    discard,
    codes(rows, out, pass) {
      if (pass === 0) {
        gatherChunks(reader, 'timestamp', rows, times);
        for (let i = 0; i < rows.length; i++) latest[i] = Math.floor((times[i] as number) / every);
      }
      for (let i = 0; i < rows.length; i++) {
        const k = (latest[i] as number) - pass;
        out[i] = k * every + size > (times[i] as number) ? k - first : discard;
      }
    },
    valueOf: startOf,
    columnsOf: (code) => ({ windowStart: startOf(code), windowEnd: startOf(code) + size }),
  };
}

/** A number per row read from chunks. */
export function numberSourceOf(spec: NumberSpec, reader: ChunkReader): NumberSource {
  if (spec.kind === 'sequence') {
    return {
      numbers(rows, out) {
        for (let i = 0; i < rows.length; i++) out[i] = (rows[i] as number) + 1;
      },
    };
  }
  return { numbers: (rows, out) => gatherChunks(reader, spec.key, rows, out) };
}

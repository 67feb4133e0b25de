import type { ColumnSpec, ColumnType, ExportColumn } from './column-spec.js';

/** The kind of one value, for inference: undefined for null and missing values, which fit any type. */
function kindOf(value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'number':
      return 'float64';
    case 'bigint':
      return 'int64';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'utf8';
    default:
      return value instanceof Date ? 'timestamp' : 'json';
  }
}

/**
 * A column's type from the values of the first batch: their one kind (numbers → float64, text →
 * utf8, booleans → bool, Dates → timestamp, bigints → int64, objects and arrays → json); values of
 * several kinds → json (each written as its JSON text, nothing lost); only nulls → utf8 (the type
 * that holds any later value as text). A Parquet or Arrow schema cannot change once written, so a
 * later value the type cannot hold fails the export (EXPORT_SCHEMA_MISMATCH) rather than being
 * dropped: declare the column's type in `columns` to avoid it.
 */
export function inferType(rows: readonly Record<string, unknown>[], name: string): ColumnType {
  let found: ColumnType | undefined;
  for (const row of rows) {
    const kind = kindOf(row[name]);
    if (kind === undefined || kind === found) continue;
    if (found !== undefined) return 'json';
    found = kind;
  }
  return found ?? 'utf8';
}

/** The keys of the first batch, in the order they first appear. */
function keysOf(rows: readonly Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) keys.add(key);
  return [...keys];
}

/**
 * The columns of an export: the given ones (types inferred where absent), or the keys of the first
 * batch. `strict` is set when the columns were inferred: a later row with a key the first batch did
 * not have then fails the export instead of losing that value.
 */
export function decideColumns(
  declared: readonly ColumnSpec[] | undefined,
  firstBatch: readonly Record<string, unknown>[],
): { columns: ExportColumn[]; strict: boolean } {
  const specs: readonly ColumnSpec[] = declared ?? keysOf(firstBatch).map((name) => ({ name }));
  const columns = specs.map((spec) =>
    Object.freeze({ name: spec.name, type: spec.type ?? inferType(firstBatch, spec.name) }),
  );
  return { columns, strict: declared === undefined };
}

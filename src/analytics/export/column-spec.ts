import { ValidationError } from '../../errors.js';
import { requireDense } from '../../events/dense-list.js';
import { CORE_FIELDS, resolveField, type CoreField } from '../../query/fields.js';
import { describe } from '../../support/describe.js';

/**
 * The type of an export column, as Arrow and Parquet write it (CSV and NDJSON write text and JSON
 * values of the same meaning):
 * - `float64`: numbers (DuckDB `DOUBLE`);
 * - `int64`: integers (DuckDB `BIGINT`): sequence and version;
 * - `bool`: booleans;
 * - `timestamp`: an instant, milliseconds since the epoch in UTC (a Date, or epoch ms); DuckDB
 *   `TIMESTAMP WITH TIME ZONE`;
 * - `utf8`: text; any other value is written as its text (numbers and booleans as JSON text, a
 *   Date as ISO-8601, objects as JSON), so a text column never loses a value;
 * - `json`: any JSON value, written as its JSON text (NDJSON keeps it as a nested value).
 */
export type ColumnType = 'float64' | 'int64' | 'bool' | 'timestamp' | 'utf8' | 'json';

export const COLUMN_TYPES: readonly ColumnType[] = ['float64', 'int64', 'bool', 'timestamp', 'utf8', 'json'];

/** A column to export: a row key and, optionally, its type (inferred from the first batch when absent). */
export interface ColumnSpec {
  readonly name: string;
  readonly type?: ColumnType;
}

/** A column whose type is decided: what the writers take. */
export interface ExportColumn {
  readonly name: string;
  readonly type: ColumnType;
}

const CORE_TYPES: Readonly<Record<CoreField, ColumnType>> = {
  sequence: 'int64',
  id: 'utf8',
  aggregateId: 'utf8',
  version: 'int64',
  type: 'utf8',
  timestamp: 'timestamp',
};

/** The columns a whole StoredEvent flattens to, in this order; tags, payload and metadata as JSON. */
export const EVENT_COLUMNS: readonly ExportColumn[] = Object.freeze([
  { name: 'sequence', type: 'int64' },
  { name: 'id', type: 'utf8' },
  { name: 'aggregateId', type: 'utf8' },
  { name: 'version', type: 'int64' },
  { name: 'type', type: 'utf8' },
  { name: 'timestamp', type: 'timestamp' },
  { name: 'tags', type: 'json' },
  { name: 'payload', type: 'json' },
  { name: 'metadata', type: 'json' },
] as const);

/**
 * The columns of a query's rows with `select`: one per selected field, named as selected. Core
 * fields have their known type; `tags.*` and `payload.*` fields are inferred from the first batch.
 */
export function selectColumns(select: readonly string[]): ColumnSpec[] {
  return select.map((field) => {
    const ref = resolveField(field, 'select');
    return ref.kind === 'core' && ref.name in CORE_FIELDS
      ? { name: field, type: CORE_TYPES[ref.name] }
      : { name: field };
  });
}

/** Checks a caller's `columns` option: a non-empty list of distinct names with known types. */
export function checkColumns(columns: unknown, path: string): readonly ColumnSpec[] {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new ValidationError(
      path,
      `must be a non-empty array of { name, type? }, got ${describe(columns)}`,
      'INVALID_OPTION',
    );
  }
  requireDense(columns, path);
  const seen = new Set<string>();
  return columns.map((column: unknown, i) => {
    const at = `${path}[${i}]`;
    const spec = column as Partial<ColumnSpec> | null;
    if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string' || spec.name === '') {
      throw new ValidationError(
        at,
        `must be { name: string, type? }, got ${describe(column)}`,
        'INVALID_OPTION',
      );
    }
    if (seen.has(spec.name)) {
      throw new ValidationError(
        `${at}.name`,
        `column ${describe(spec.name)} is named twice`,
        'INVALID_OPTION',
      );
    }
    seen.add(spec.name);
    if (spec.type !== undefined && !COLUMN_TYPES.includes(spec.type)) {
      throw new ValidationError(
        `${at}.type`,
        `unknown column type ${describe(spec.type)}; expected one of ${COLUMN_TYPES.join(', ')}`,
        'INVALID_OPTION',
      );
    }
    return Object.freeze(
      spec.type === undefined ? { name: spec.name } : { name: spec.name, type: spec.type },
    );
  });
}

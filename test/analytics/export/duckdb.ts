import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Reads exported files back with DuckDB (the `@duckdb/node-api` dev dependency, a prebuilt binding
 * from the npm registry): the rows as plain JavaScript values, BIGINT as numbers, timestamps as Dates.
 */
export async function duckdbRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    // Timestamps with time zone come back as instants whatever the machine's zone.
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row))
        out[key] = typeof value === 'bigint' ? Number(value) : value;
      return out;
    });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The DuckDB column types of a query's result, by name. */
export async function duckdbTypes(sql: string): Promise<Record<string, string>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    return Object.fromEntries(names.map((name, i) => [name, String(types[i])]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A path as a DuckDB string literal. */
export const sqlPath = (path: string): string => `'${path.replace(/'/g, "''")}'`;

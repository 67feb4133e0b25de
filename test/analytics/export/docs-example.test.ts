import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import * as library from '../../../src/index.js';
import { removeDir, tempDir } from '../../support/helpers.js';
import { duckdbRows, sqlPath } from './duckdb.js';

/** docs/export.md's example runs as written, prints what its comments say, and DuckDB reads its files. */
function exampleCode(): string {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'export.md'), 'utf8');
  const block = doc.split('\n## Example\n')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (block === undefined) throw new Error('docs/export.md has no ts code block under "## Example"');
  return block;
}

describe('docs/export.md', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
  });

  it('runs the example as written', async () => {
    const work = await tempDir();
    dir = work;
    const code = exampleCode();
    const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (\S+)/g)].map((m) => Number(m[1]));
    const runnable = transformSync(code, { loader: 'ts' })
      .code.replace(/^import \{([^}]*)\} from "@tamma\/events";$/m, 'const {$1} = library;')
      .replace(/"\.\/([^"]+)"/g, (_, name: string) => JSON.stringify(join(work, name)));
    expect(runnable).not.toContain('@tamma/events');
    const logged: unknown[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction('library', 'console', runnable)(library, {
      log: (value: unknown) => logged.push(value),
    });
    expect(promised).toEqual([3, 2, 2]);
    expect(logged).toEqual(promised);
    const types = await duckdbRows(
      `select type, count(*) as n from read_parquet(${sqlPath(join(work, 'events.parquet'))}) group by type order by type`,
    );
    expect(types).toEqual([
      { type: 'ORDER.PAID', n: 1 },
      { type: 'ORDER.PLACED', n: 2 },
    ]);
    const placed = await duckdbRows(
      `select "tags.region", "payload.total" from read_csv(${sqlPath(join(work, 'placed.csv'))}, allow_quoted_nulls = false)`,
    );
    expect(placed).toEqual([
      { 'tags.region': 'eu', 'payload.total': 42.5 },
      { 'tags.region': 'us', 'payload.total': 7 },
    ]);
  });
});

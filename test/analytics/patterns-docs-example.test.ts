import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as library from '../../src/index.js';

/** docs/analytics.md's pattern and funnel examples must run as written and print what their comments say. */
function runExample(heading: string): { promised: number[]; logged: unknown[] } {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  const code = doc.split(`\n### ${heading}\n`)[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (code === undefined) throw new Error(`docs/analytics.md has no ts code block under "### ${heading}"`);
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (\S+)/g)].map((m) => Number(m[1]));
  const runnable = transformSync(code, { loader: 'ts' }).code.replace(
    /^import \{([^}]*)\} from "@tamma\/events";$/m,
    'const {$1} = library;',
  );
  expect(runnable).not.toContain('@tamma/events');
  const logged: unknown[] = [];
  // esbuild strips the types; the import becomes the library's exports.
  new Function('library', 'console', runnable)(library, { log: (value: unknown) => logged.push(value) });
  return { promised, logged };
}

describe('docs/analytics.md', () => {
  it('runs the pattern example as written', () => {
    const { promised, logged } = runExample('Pattern example');
    expect(promised).toEqual([1, 60000, 0, 1]);
    expect(logged).toEqual(promised);
  });

  it('runs the funnel example as written', () => {
    const { promised, logged } = runExample('Funnel example');
    expect(promised).toEqual([2, 0.5, 1500, 5000]);
    expect(logged).toEqual(promised);
  });
});

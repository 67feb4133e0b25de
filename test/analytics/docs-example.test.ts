import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as library from '../../src/index.js';

/** docs/analytics.md's example must run as written and print what its comments say. */
function exampleCode(): string {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  const block = doc.split('\n### Example\n')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (block === undefined) throw new Error('docs/analytics.md has no ts code block under "### Example"');
  return block;
}

describe('docs/analytics.md', () => {
  it('runs the accumulator example as written', () => {
    const code = exampleCode();
    const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (\S+)/g)].map((m) => Number(m[1]));
    const runnable = transformSync(code, { loader: 'ts' }).code.replace(
      /^import \{([^}]*)\} from "@tamma\/events";$/m,
      'const {$1} = library;',
    );
    expect(runnable).not.toContain('@tamma/events');
    const logged: unknown[] = [];
    // esbuild strips the types; the import becomes the library's exports.
    new Function('library', 'console', runnable)(library, { log: (value: unknown) => logged.push(value) });
    expect(promised).toEqual([20, 29, 29, 20]);
    expect(logged).toEqual(promised);
  });
});

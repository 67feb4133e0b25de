import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as library from '../../../src/index.js';

const AsyncFunction = (async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

/** A ts block of docs/analytics.md under `### heading`, run as written; what it logs vs its comments (JSON). */
async function runExample(heading: string): Promise<{ promised: unknown[]; logged: unknown[] }> {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'analytics.md'), 'utf8');
  const code = doc.split(`\n### ${heading}\n`)[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (code === undefined) throw new Error(`docs/analytics.md has no ts code block under "### ${heading}"`);
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) => JSON.parse(m[1]!));
  const runnable = transformSync(code, { loader: 'ts' }).code.replace(
    /^import \{([^}]*)\} from "@tamma\/events";$/m,
    'const {$1} = library;',
  );
  expect(runnable).not.toContain('@tamma/events');
  const logged: unknown[] = [];
  // esbuild strips the types; the import becomes the library's exports; top-level await runs in an async function.
  await new AsyncFunction('library', 'console', runnable)(library, {
    log: (text: string) => logged.push(JSON.parse(text)),
  });
  return { promised, logged };
}

describe('docs/analytics.md row-stage examples', () => {
  it.each(['Window example', 'Running aggregate example', 'Pipeline example'])(
    'runs the %s as written',
    async (heading) => {
      const { promised, logged } = await runExample(heading);
      expect(promised.length).toBeGreaterThan(0);
      expect(logged).toEqual(promised);
    },
  );
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { expect, test } from 'vitest';
import * as library from '../../../src/index.js';

/**
 * The README's "Monitoring" example runs as written, and every `console.log(...); // <text>` in it
 * prints that text (the values it logs, joined by spaces). Lines without such a comment print
 * latencies, which vary from run to run.
 */
test('the README Monitoring example runs and prints what its comments say', async () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
  const code = readme.split('\n## Monitoring\n')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(code, 'README.md has a ts block under "## Monitoring"').toBeDefined();
  const promised = [...code!.matchAll(/^(console\.log\(.*\));(?: \/\/ (.+))?$/gm)].map((m) => m[2]);
  expect(promised.filter((p) => p !== undefined).length).toBeGreaterThanOrEqual(5);
  const runnable = transformSync(code!, { loader: 'ts' }).code.replace(
    /^import \{([^}]*)\} from "@tamma\/events";$/m,
    'const {$1} = library;',
  );
  expect(runnable).not.toContain('@tamma/events');
  const logged: string[] = [];
  const console = { log: (...values: unknown[]) => logged.push(values.map(String).join(' ')) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<void>;
  await new AsyncFunction('library', 'console', runnable)(library, console);
  expect(logged).toHaveLength(promised.length);
  promised.forEach((text, i) => {
    if (text !== undefined) expect(logged[i]).toBe(text);
  });
  expect(logged[1]).toMatch(/^getEvents p50 \d+(\.\d+)?(e-\d+)? ms, p99 \S+ ms, max \S+ ms$/);
});

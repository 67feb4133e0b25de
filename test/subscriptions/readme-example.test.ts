import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { expect, test } from 'vitest';
import * as library from '../../src/index.js';

/**
 * The README's "Subscriptions" example runs as written (against the library's public exports) and
 * prints what its comments promise: each `console.log(JSON.stringify(x)); // <json>`.
 */
test('the README subscriptions example runs and prints what its comments say', async () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const code = readme.split('\n## Subscriptions\n')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (code === undefined) throw new Error('README.md has no ts code block under "## Subscriptions"');
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) =>
    JSON.parse(m[1] as string),
  );
  expect(promised.length).toBe(3);
  const runnable = transformSync(code, { loader: 'ts' }).code.replace(
    /^import \{([^}]*)\} from "@tamma\/events";$/m,
    'const {$1} = library;',
  );
  expect(runnable).not.toContain('@tamma/events');
  const logged: unknown[] = [];
  const console = { log: (text: string) => logged.push(JSON.parse(text)) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<void>;
  await new AsyncFunction('library', 'console', runnable)(library, console);
  expect(logged).toEqual(promised);
});

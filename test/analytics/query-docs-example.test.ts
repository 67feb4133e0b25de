import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { expect, it } from 'vitest';
import * as library from '../../src/index.js';

/** docs/analytics.md's first example (Analytics queries) runs as written and prints what its comments say. */
it('docs/analytics.md: the analytics queries example', async () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  const code = doc.split('\n## Analytics queries\n')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (code === undefined) throw new Error('docs/analytics.md has no ts block under "## Analytics queries"');
  const promised = [...code.matchAll(/console\.log\([\s\S]*?\); \/\/ (.+)$/gm)].map((m) => m[1]);
  const runnable = transformSync(code, { loader: 'ts' }).code.replace(
    /^import \{([^}]*)\} from "@tamma\/events";$/m,
    'const {$1} = library;',
  );
  expect(runnable).not.toContain('@tamma/events');
  const logged: string[] = [];
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
  await new AsyncFunction('library', 'console', runnable)(library, {
    log: (value: unknown) => logged.push(String(value)),
  });
  expect(promised).toHaveLength(4);
  expect(logged).toEqual(promised);
});

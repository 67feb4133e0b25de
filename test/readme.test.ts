import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import * as library from '../src/index.js';
import { removeDir, tempDir } from './support/helpers.js';

/**
 * The README's tour is the first code a newcomer runs: it must run as written. The test takes the
 * code block under "## A tour", points its directories at a temporary one, and runs it against the
 * library's public exports (what `@tamma/events` resolves to).
 */
function sectionCode(heading: string): string {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const section = readme.split(`\n## ${heading}\n`)[1];
  const block = section?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (block === undefined) throw new Error(`README.md has no ts code block under "## ${heading}"`);
  return block;
}

const tourCode = (): string => sectionCode('A tour');

describe('README', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
  });

  it('runs the tour as written', async () => {
    dir = await tempDir();
    const code = tourCode()
      .replace(/^import \{([^}]*)\} from '@tamma\/events';$/m, 'const {$1} = library;')
      .replaceAll("'./events-archive'", JSON.stringify(join(dir, 'archive')))
      .replaceAll("'./events'", JSON.stringify(join(dir, 'events')));
    expect(code).not.toContain('@tamma/events');
    const logged: unknown[] = [];
    const console = { log: (...values: unknown[]) => logged.push(values) };
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction('library', 'console', code)(library, console);
    // The tour prints the plan and the stats; the concurrency conflict is caught, not printed.
    expect(logged.length).toBe(2);
  });

  it('runs the result cache example as written and prints what its comments say', async () => {
    const { promised, logged } = await runPromising(sectionCode('Result cache'));
    expect(promised.length).toBe(4);
    expect(logged).toEqual(promised);
  });

  it('runs the subscriptions example as written and prints what its comments say', async () => {
    const { promised, logged } = await runPromising(sectionCode('Subscriptions'));
    expect(promised.length).toBe(3);
    expect(logged).toEqual(promised);
  });

  it('runs the analytics example as written and prints what its comments say', async () => {
    // Each `console.log(JSON.stringify(x)); // <json>` promises that JSON.
    const { promised, logged } = await runPromising(sectionCode('Analytics'));
    expect(promised.length).toBe(4);
    expect(logged).toEqual(promised);
  });

  it('runs the commit hooks example as written and prints what its comments say', async () => {
    const { promised, logged } = await runPromising(sectionCode('Commit hooks'));
    expect(promised.length).toBe(4);
    expect(logged).toEqual(promised);
  });
});

/**
 * Runs a README block (types stripped, the import turned into the library's exports) and returns
 * what it logged beside what its `console.log(JSON.stringify(x)); // <json>` comments promise.
 */
async function runPromising(code: string): Promise<{ promised: unknown[]; logged: unknown[] }> {
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) =>
    JSON.parse(m[1] as string),
  );
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
  return { promised, logged };
}

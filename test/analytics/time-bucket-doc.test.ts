import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as library from '../../src/index.js';

/**
 * docs/analytics.md's "Time buckets" example runs against the public exports, and every line whose
 * comment names a `Date.parse(...)` value returns that value.
 */
function exampleCode(): string {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  const block = doc.split('\n## Time buckets\n')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (block === undefined) throw new Error('docs/analytics.md has no ts code block under "## Time buckets"');
  return block.replace(/^import \{([^}]*)\} from '@tamma\/events';$/m, 'const {$1} = library;');
}

describe('docs/analytics.md, Time buckets', () => {
  it('runs the example, and each commented value is what the line returns', () => {
    const lines = exampleCode().split('\n');
    let checked = 0;
    const prefix: string[] = [];
    for (const line of lines) {
      const claim = /^(.*); \/\/ (Date\.parse\('[^']+'\))/.exec(line);
      if (claim) {
        const run = new Function('library', `${prefix.join('\n')}\nreturn [${claim[1]}, ${claim[2]}];`);
        const [actual, expected] = run(library) as [number, number];
        expect(actual, line).toBe(expected);
        checked += 1;
      }
      prefix.push(line);
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    new Function('library', lines.join('\n'))(library);
    // The range line's comment is prose; pin it here.
    expect(
      library.bucketRange(Date.parse('2024-01-15T00:00:00Z'), Date.parse('2024-04-01T00:00:00Z'), '1mo'),
    ).toEqual(['2024-01-01', '2024-02-01', '2024-03-01'].map((day) => Date.parse(`${day}T00:00:00Z`)));
  });
});

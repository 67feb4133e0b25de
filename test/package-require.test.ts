import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package is ESM-only. `require('@tamma/events')` must fail with a message that says to use
 * `import`, not with Node's ERR_PACKAGE_PATH_NOT_EXPORTED. The package is resolved the way an
 * installed one is, through node_modules and package.json "exports" (a symlink to this checkout).
 */
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'tamma-require-'));
  mkdirSync(join(project, 'node_modules', '@tamma'), { recursive: true });
  symlinkSync(resolve('.'), join(project, 'node_modules', '@tamma', 'events'), 'dir');
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

describe('require() of the package', () => {
  it('throws an error that says the package is ESM-only and to use import', () => {
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        "try { require('@tamma/events') } catch (e) { console.log(e.code + ' ' + e.message); process.exit(3) }",
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/^ERR_REQUIRE_ESM @tamma\/events is an ES module \(ESM-only\)/);
    expect(run.stdout).toContain("import { openEventStore } from '@tamma/events'");
    expect(run.stdout).toContain("await import('@tamma/events')");
  });
});

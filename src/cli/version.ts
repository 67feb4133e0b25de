import { readFileSync } from 'node:fs';

/**
 * The package version, read at run time: both src/cli (tests) and dist/cli (the bin) sit two levels
 * below package.json, and reading it keeps the version in one place.
 */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

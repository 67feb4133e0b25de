import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { writeFileDurably } from '../log/durable-file.js';
import type { RetentionOptions } from '../../../retention/policy.js';

/**
 * The retention policy an application last set on an on-disk store, recorded so that tools (CLI
 * `stats` and `cleanup`) act on the same policy. The application still passes its policy at each
 * open: opening without one means no policy, whatever this file says, so expiry never starts from
 * a file the application did not mean to apply.
 */
const POLICY_FILE = 'retention.json';

/** Records the policy, durably; nothing is written when the file already says the same (each open). */
export function writePolicyFile(dir: string, options: RetentionOptions | undefined): void {
  const path = join(dir, POLICY_FILE);
  const text = `${JSON.stringify({ retention: options ?? null }, null, 2)}\n`;
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileDurably(path, text);
}

export function readPolicyFile(dir: string): RetentionOptions | undefined {
  const path = join(dir, POLICY_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const { retention } = JSON.parse(readFileSync(path, 'utf8')) as { retention?: RetentionOptions | null };
    return retention ?? undefined;
  } catch (error) {
    throw new CorruptionError(
      path,
      0,
      `the recorded retention policy is unreadable (${(error as Error).message})`,
    );
  }
}

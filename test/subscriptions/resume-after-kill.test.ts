import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { openEventStore, type StoredEvent } from '../../src/index.js';
import { LIB, REGISTER, ROOT } from '../support/child-paths.js';
import { removeDir, tempDir } from '../support/helpers.js';

const CHILD = fileURLToPath(new URL('./projection-child.mjs', import.meta.url));
const TOTAL = 400;

/**
 * Runs the projection child until it has printed `killAt` commits, then SIGKILLs it. Resolves with
 * the last sequence it printed (its commit had resolved: durable) and the signal it died of.
 */
function projectUntilKilled(dir: string, killAt: number): Promise<{ last: number; signal: string | null }> {
  const config = { lib: LIB, dir, name: 'projection', batchSize: 7 };
  const child = spawn(process.execPath, ['--import', REGISTER, CHILD, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let last = 0;
  let text = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    for (const line of lines) {
      last = Number(line.split(' ')[1]);
      if (last >= killAt) child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve({ last, signal }) : reject(new Error(`child exited: ${stderr}`)),
    ),
  );
}

describe('a named subscription killed with SIGKILL', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  test.each([50, 213])(
    'resumes after its last durable commit, losing nothing (killed after %i)',
    async (killAt) => {
      const dir = await tempDir();
      dirs.push(dir);
      const writer = await openEventStore({ dir });
      await writer.append(Array.from({ length: TOTAL }, (_, i) => ({ aggregateId: `a${i % 5}`, type: 'T' })));
      await writer.close();

      const { last } = await projectUntilKilled(dir, killAt);
      expect(last).toBeGreaterThanOrEqual(killAt);

      const store = await openEventStore({ dir });
      try {
        const [info] = store.subscriptions();
        // Every printed commit had resolved, so it is durable; the kill may have caught one more.
        expect(info?.name).toBe('projection');
        expect(info?.position).toBeGreaterThanOrEqual(last);
        expect(info?.position).toBeLessThanOrEqual(last + 1);
        const resumed: StoredEvent[] = [];
        const sub = store.subscribe({ name: 'projection' });
        for await (const event of sub) {
          resumed.push(event);
          if (event.sequence === TOTAL) break;
        }
        const expected = Array.from(
          { length: TOTAL - (info?.position ?? 0) },
          (_, i) => (info?.position ?? 0) + i + 1,
        );
        expect(resumed.map((event) => event.sequence)).toEqual(expected);
      } finally {
        await store.close();
      }
    },
    60_000,
  );
});

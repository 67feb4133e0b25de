import { spawn } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import { openEventStore, type EventStore } from '../../src/index.js';
import { LIB, REGISTER, ROOT } from '../support/child-paths.js';
import { cli } from '../support/cli.js';
import { removeDir, tempDir } from '../support/helpers.js';

const lines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { sequence: number; type: string; timestamp: string });

describe('tamma-events subscribe', () => {
  let dir: string;
  let writer: EventStore | undefined;
  afterEach(async () => {
    await writer?.close();
    writer = undefined;
    await removeDir(dir);
  });

  async function storeWith(types: string[]): Promise<EventStore> {
    dir = await tempDir();
    writer = await openEventStore({ dir });
    await writer.append(types.map((type, i) => ({ aggregateId: `a${i}`, type })));
    return writer;
  }

  test('--until-caught-up prints the matching events already there, as NDJSON, and exits', async () => {
    await storeWith(['A', 'B', 'A', 'C', 'A']);
    const all = await cli(['subscribe', '--dir', dir, '--until-caught-up']);
    expect(all.code).toBe(0);
    expect(lines(all.stdout).map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(lines(all.stdout)[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    const filtered = await cli([
      'subscribe',
      '--dir',
      dir,
      '--after',
      '1',
      '--type',
      'A',
      '--until-caught-up',
    ]);
    expect(lines(filtered.stdout).map((event) => event.sequence)).toEqual([3, 5]);
    const byQuery = await cli([
      'subscribe',
      '--dir',
      dir,
      '--query',
      '{"kind":"in","field":"type","values":["B","C"]}',
      '--until-caught-up',
    ]);
    expect(lines(byQuery.stdout).map((event) => event.sequence)).toEqual([2, 4]);
  });

  test('follows a writer: events appended after it started arrive live, until --limit', async () => {
    const store = await storeWith(['A', 'A']);
    const tail = cli(['subscribe', '--dir', dir, '--after', 'end', '--poll-ms', '5', '--limit', '3']);
    await store.append([{ aggregateId: 'x', type: 'A' }]);
    await store.append([
      { aggregateId: 'y', type: 'A' },
      { aggregateId: 'z', type: 'A' },
      { aggregateId: 'z', type: 'A' },
    ]);
    const result = await tail;
    expect(result.code).toBe(0);
    expect(lines(result.stdout).map((event) => event.sequence)).toEqual([3, 4, 5]);
  });

  test('tails a store another process writes', async () => {
    const store = await storeWith(['A']);
    await store.close();
    writer = undefined;
    const child = spawn(
      process.execPath,
      [
        '--import',
        REGISTER,
        '--input-type=module',
        '-e',
        `const { runCli } = await import(${JSON.stringify(LIB.replace('index.ts', 'cli/run.ts'))});
         process.exitCode = await runCli(process.argv.slice(1), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, isTTY: false });`,
        'subscribe',
        '--dir',
        dir,
        '--poll-ms',
        '5',
        '--limit',
        '4',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    writer = await openEventStore({ dir });
    for (let i = 0; i < 3; i++) await writer.append({ aggregateId: 'b', type: 'B' });
    expect(await exited, stderr).toBe(0);
    expect(lines(stdout).map((event) => event.sequence)).toEqual([1, 2, 3, 4]);
  }, 30_000);

  test('bad usage exits 2 with a message', async () => {
    await storeWith(['A']);
    const order = await cli(['subscribe', '--dir', dir, '--order', 'desc']);
    expect(order.code).toBe(2);
    expect(order.stderr).toContain('sequence order');
    const after = await cli(['subscribe', '--dir', dir, '--after', 'start']);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain('--after');
  });
});

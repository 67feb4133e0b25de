/**
 * kill -9 with field columns: a writer declaring field columns appends past its periodic
 * checkpoints and is SIGKILLed. On reopen every acknowledged event's field is in the columns, with
 * the values its event holds: the columns came back from the checkpoint, and only the log after it
 * (the tail the kill left unsaved) was read to catch them up.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { openEventStore } from '../../src/index.js';
import { readPath } from '../../src/query/fields.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { tableOf } from '../support/internals.js';
import { ROOT, REGISTER, LIB } from '../support/child-paths.js';

const WRITER = fileURLToPath(new URL('./field-column-writer.mjs', import.meta.url));
const FIELDS = ['payload.n', 'payload.deep.v', 'payload.carrier', 'tags.k'];

/**
 * Runs the writer, which checkpoints once past `checkpointAt`, until an append past `sequence` is
 * acknowledged, then SIGKILLs it; the last sequence acknowledged.
 */
function runWriter(dir: string, checkpointAt: number, sequence: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const config = { lib: LIB, dir, fieldColumns: FIELDS, checkpointAt };
    const child = spawn(process.execPath, ['--import', REGISTER, WRITER, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acknowledged = 0;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer did not reach sequence ${sequence} in time; stderr:\n${stderr}`));
    }, 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word === 'ACK') acknowledged = Number(value);
      if (acknowledged >= sequence && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself:\n${stderr}`));
      else resolve(acknowledged);
    });
  });
}

describe('kill -9 with field columns', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  test('after each kill, the columns hold every acknowledged event’s field; only the tail is read', async () => {
    const dir = join(await tempDir('tamma-kill-fieldcols-'), 'store');
    dirs.push(dir);
    for (const [checkpointAt, target] of [
      [700, 1000],
      [1900, 2600],
    ] as const) {
      const acknowledged = await runWriter(dir, checkpointAt, target);
      const store = await openEventStore({ dir, fieldColumns: FIELDS });
      try {
        const table = tableOf(store);
        const stats = store.stats();
        const rows = stats.lastSequence;
        expect(rows).toBeGreaterThanOrEqual(acknowledged);
        const checkpointRows = stats.storage?.lastCheckpointSequence ?? 0;
        // The checkpoint the writer wrote, and the tail after it that the kill left unsaved.
        expect(checkpointRows).toBeGreaterThanOrEqual(checkpointAt);
        expect(checkpointRows).toBeLessThan(checkpointAt + 37);
        expect(rows).toBeGreaterThan(checkpointRows + 200);
        for (const column of stats.fieldColumns ?? []) {
          expect(column).toMatchObject({ restored: true, rows, extractedRows: rows - checkpointRows });
        }
        const events = await store.read();
        expect(events).toHaveLength(rows);
        for (const field of FIELDS) {
          const column = table.fieldColumn(field);
          for (const event of events) {
            const want = field.startsWith('tags.')
              ? (event.tags as Record<string, unknown>)[field.slice(5)]
              : readPath(event.payload, field.slice(8).split('.'));
            expect(column.value(event.sequence - 1), `${field} @${event.sequence}`).toStrictEqual(want);
          }
        }
      } finally {
        // Closed without a checkpoint of its own: the next writer starts from the periodic one.
        (store as unknown as { engine: { checkpointer: { rows: number } } }).engine.checkpointer.rows =
          store.stats().lastSequence;
        tableOf(store).fieldColumns.unsaved = false;
        await store.close();
      }
    }
  }, 120_000);
});

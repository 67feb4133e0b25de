/**
 * verifyStore checks every file the store relies on (issue 14, item 4), not only the log and the
 * checkpoint: a report entry per damaged file, naming it and the offset where the damage starts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ManualClock, openEventStore, verifyStore } from '../../src/index.js';
import { removeDir, tempDir } from '../support/helpers.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

let root: string;
let dir: string;
let archive: string;

beforeEach(async () => {
  root = await tempDir('verify-files');
  dir = join(root, 'store');
  archive = join(root, 'archive');
  // Events 40 days old, archived by cleanup; a deleted stream; a user index.
  const store = await openEventStore({ dir, clock: new ManualClock(T0 + 40 * DAY), fsync: 'never' });
  await store.append(
    Array.from({ length: 30 }, (_, i) => ({
      aggregateId: `s${i % 3}`,
      type: 'T',
      timestamp: T0 + i * 1000,
      tags: { n: i },
    })),
  );
  await store.append({ aggregateId: 'fresh', type: 'T', timestamp: T0 + 40 * DAY });
  await store.indexes.createIndex({ name: 'by_n', fields: ['tags.n'] });
  await store.deleteAggregate('s1');
  store.setRetention({ maxAge: '30d', archive: { dir: archive }, schedule: false });
  await store.cleanup();
  await store.close();
});

afterEach(async () => {
  await removeDir(root);
});

function changeByte(file: string, offset: number, to: string): void {
  const bytes = readFileSync(file);
  bytes.write(to, offset);
  writeFileSync(file, bytes);
}

describe('verifyStore checks every file', () => {
  test('an intact store has none to report', async () => {
    expect(existsSync(join(archive, 'manifest.json'))).toBe(true);
    expect(existsSync(join(dir, 'log', 'start.json'))).toBe(true);
    const report = await verifyStore(dir);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  // log/start.json is read with the log: its damage has a kind of its own, which repair mends.
  const files: [string, (dir: string, archive: string) => string, number, string][] = [
    ['tombstones.log', (d) => join(d, 'tombstones.log'), 3, 'corrupt-file'],
    ['indexes.json', (d) => join(d, 'indexes.json'), 0, 'corrupt-file'],
    ['store.json', (d) => join(d, 'store.json'), 0, 'corrupt-file'],
    ['log/start.json', (d) => join(d, 'log', 'start.json'), 0, 'bad-log-start'],
    ['retention.json', (d) => join(d, 'retention.json'), 0, 'corrupt-file'],
    ['the archive manifest', (_d, a) => join(a, 'manifest.json'), 0, 'corrupt-file'],
  ];
  for (const [name, pathOf, at, kind] of files) {
    test(`a damaged ${name} is reported, with its file`, async () => {
      const path = pathOf(dir, archive);
      changeByte(path, at, '#');
      const report = await verifyStore(dir);
      expect(report.ok).toBe(false);
      expect(report.problems).toContainEqual(expect.objectContaining({ kind, file: path, offset: 0 }));
    });
  }

  test('a damaged second tombstone is reported at its offset; a torn last one as a torn tail', async () => {
    const path = join(dir, 'tombstones.log');
    const first = readFileSync(path, 'utf8');
    writeFileSync(path, `${first}${first}${first.slice(0, 9)}`);
    let report = await verifyStore(dir);
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'torn-tail', file: path, offset: first.length * 2 }),
    ]);
    changeByte(path, first.length + 1, first[1] === 'a' ? 'b' : 'a');
    report = await verifyStore(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'corrupt-file', file: path, offset: first.length }),
    );
  });
});

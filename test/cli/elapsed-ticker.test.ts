import { PassThrough } from 'node:stream';
import { afterEach, expect, test, vi } from 'vitest';
import { elapsedTicker } from '../../src/cli/progress.js';
import type { CliIo } from '../../src/cli/io.js';

afterEach(() => vi.useRealTimers());

function io(isTTY: boolean): { io: CliIo; written: () => string } {
  const stderr = new PassThrough();
  const chunks: string[] = [];
  stderr.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { io: { isTTY, stderr } as unknown as CliIo, written: () => chunks.join('') };
}

test('on a terminal, the elapsed time is redrawn in place and cleared at the end', async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
  const { io: tty, written } = io(true);
  const ticker = elapsedTicker(tty, 'analyzing');
  vi.advanceTimersByTime(1000);
  ticker.stop();
  await new Promise((resolve) => setImmediate(resolve));
  expect(written()).toContain('\ranalyzing… 1.0 s');
  expect(written().endsWith('\r\x1b[2K')).toBe(true);
});

test('piped, nothing is written', async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
  const { io: piped, written } = io(false);
  const ticker = elapsedTicker(piped, 'analyzing');
  vi.advanceTimersByTime(1000);
  ticker.stop();
  await new Promise((resolve) => setImmediate(resolve));
  expect(written()).toBe('');
});

import { MultiBar, Presets } from 'cli-progress';
import { formatInt } from './format.js';
import type { CliIo } from './io.js';

/** Progress of a long-running command, plus a way to print messages without tearing the bar. */
export interface Progress {
  update(bytesRead: number, events: number): void;
  log(line: string): void;
  stop(): void;
}

const MiB = 1024 * 1024;

/**
 * A bar on an interactive terminal, nothing otherwise: piped or logged output should hold the
 * summary, not hundreds of redraws. `totalBytes` is unknown when reading a pipe.
 */
export function createProgress(io: CliIo, label: string, totalBytes: number | undefined): Progress {
  if (!io.isTTY) {
    return {
      update: () => {},
      log: (line) => io.stderr.write(`${line}\n`),
      stop: () => {},
    };
  }
  const known = totalBytes !== undefined && totalBytes > 0;
  const format = known
    ? `${label} [{bar}] {percentage}% | {read}/{size} MiB | {events} events | {rate} events/s | ETA {eta_formatted}`
    : `${label} {read} MiB | {events} events | {rate} events/s`;
  // A MultiBar with one bar, because only MultiBar can log lines above the bar.
  const multi = new MultiBar(
    { stream: io.stderr, format, hideCursor: true, clearOnComplete: true, etaBuffer: 50, noTTYOutput: true },
    Presets.shades_classic,
  );
  const started = performance.now();
  const payload = (bytes: number, events: number): Record<string, string> => {
    const seconds = (performance.now() - started) / 1000;
    return {
      read: (bytes / MiB).toFixed(1),
      size: known ? (totalBytes / MiB).toFixed(1) : '?',
      events: formatInt(events),
      rate: formatInt(seconds > 0 ? events / seconds : 0),
    };
  };
  const bar = multi.create(known ? totalBytes : 1, 0, payload(0, 0));
  return {
    update: (bytes, events) => bar.update(known ? Math.min(bytes, totalBytes) : 0, payload(bytes, events)),
    log: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}

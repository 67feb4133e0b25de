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
  const multi = multiBar(io, format);
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

/** A MultiBar with one bar, because only MultiBar can log lines above the bar. */
function multiBar(io: CliIo, format: string): MultiBar {
  return new MultiBar(
    { stream: io.stderr, format, hideCursor: true, clearOnComplete: true, etaBuffer: 50, noTTYOutput: true },
    Presets.shades_classic,
  );
}

/** Progress counted in items of a total that is known once work starts (rows an index build covers). */
export interface CountProgress {
  update(done: number, total: number): void;
  stop(): void;
}

/** Like createProgress, for counted work: a bar on an interactive terminal, nothing otherwise. */
export function createCountProgress(io: CliIo, label: string, unit: string): CountProgress {
  if (!io.isTTY) return { update: () => {}, stop: () => {} };
  const multi = multiBar(
    io,
    `${label} [{bar}] {percentage}% | {done}/{all} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
  );
  const started = performance.now();
  const payload = (done: number, total: number): Record<string, string> => {
    const seconds = (performance.now() - started) / 1000;
    return {
      done: formatInt(done),
      all: formatInt(total),
      rate: formatInt(seconds > 0 ? done / seconds : 0),
    };
  };
  const bar = multi.create(1, 0, payload(0, 0));
  return {
    update: (done, total) => {
      // An empty store is done at once: a bar of 0/0 would divide by zero.
      bar.setTotal(Math.max(1, total));
      bar.update(total === 0 ? 1 : Math.min(done, total), payload(done, total));
    },
    stop: () => multi.stop(),
  };
}

/**
 * On a terminal, how long the query has been running, redrawn in place on stderr and cleared at the
 * end: an analytics query is one call with no finer progress to report. Nothing when piped.
 */
export function elapsedTicker(io: CliIo, label: string): { stop(): void } {
  if (!io.isTTY) return { stop: () => {} };
  const started = performance.now();
  const timer = setInterval(() => {
    io.stderr.write(`\r${label}… ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 250);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      if (performance.now() - started >= 250) io.stderr.write('\r\x1b[2K');
    },
  };
}

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import { checkPathLength } from '../support/path-length.js';
import { formatDuration, parseDuration, type Duration } from '../events/duration.js';
import { isCronExpression } from './cleanup-schedule.js';

/**
 * Retention: how long events stay live. With no policy nothing ever expires.
 *
 * @example
 * openEventStore({ dir, retention: { maxAge: '30d', types: { 'DEBUG.*': '7d', 'AUDIT.*': 'forever' }, maxEvents: 10_000_000 } })
 */
export interface RetentionOptions {
  /** Default age (by event time) after which events expire. */
  maxAge?: Duration;
  /** Per-type overrides: exact types or patterns with `*` (`'DEBUG.*'`); `'forever'` keeps them. */
  types?: Record<string, Duration | 'forever'>;
  /**
   * Keep at most this many sequence numbers: events older than the newest `maxEvents` sequences
   * expire (a deleted or already removed event still counts as its sequence).
   */
  maxEvents?: number;
  /**
   * Archive events to this directory before cleanup removes them (see archive.ts for the layout). A
   * relative path resolves against the store's `dir` (not the working directory), so the store finds
   * its archive whichever directory the process (an application, the CLI) starts in.
   */
  archive?: { dir: string };
  /**
   * When cleanup runs: a cron expression (croner syntax, e.g. `'*\/15 * * * *'`), or `false` for
   * only when `store.cleanup()` is called. Default: hourly (`'0 * * * *'`).
   */
  schedule?: string | false;
  /**
   * Scheduled runs compact nothing until the events compaction would remove are at least this
   * share (0..1) of the events, or a deleted stream waits: compaction costs time in the events that
   * stay. The oldest events (the cut) go at every run. Default 0.2.
   */
  cleanupThreshold?: number;
  /**
   * An appended event already past its type's `maxAge` (by event time, against the store's clock):
   * `'reject'` (default) refuses the whole batch with a ValidationError `EVENT_EXPIRED`; `'archive'`
   * sends it to `archive.dir` instead, and needs `archive` set.
   */
  onExpired?: 'reject' | 'archive';
}

export const DEFAULT_SCHEDULE = '0 * * * *';
export const DEFAULT_CLEANUP_THRESHOLD = 0.2;

interface TypeRule {
  pattern: string;
  test: (type: string) => boolean;
  /** Milliseconds, or Infinity for 'forever'. */
  maxAge: number;
  /** Exact types win over patterns; among patterns the longest (most specific) wins. */
  rank: number;
}

const KEYS = new Set([
  'maxAge',
  'types',
  'maxEvents',
  'archive',
  'schedule',
  'cleanupThreshold',
  'onExpired',
]);

function globTest(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) return (type) => type === pattern;
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  const regex = new RegExp(`^${escaped}$`);
  return (type) => regex.test(type);
}

function archiveDirOf(archive: unknown, path: string, baseDir: string | undefined): string | undefined {
  if (archive === undefined) return undefined;
  if (archive === null || typeof archive !== 'object' || Array.isArray(archive)) {
    throw new ValidationError(
      `${path}.archive`,
      `must be an object like { dir: './archive' }, got ${describe(archive)}`,
      'INVALID_OPTION',
    );
  }
  for (const key of Object.keys(archive)) {
    if (key !== 'dir') {
      throw new ValidationError(`${path}.archive.${key}`, 'unknown option; expected dir', 'INVALID_OPTION');
    }
  }
  const dir = (archive as { dir?: unknown }).dir;
  if (typeof dir !== 'string' || dir.trim() === '') {
    throw new ValidationError(
      `${path}.archive.dir`,
      `must be a directory path, got ${describe(dir)}`,
      'INVALID_OPTION',
    );
  }
  checkPathLength(dir, `${path}.archive.dir`);
  if (baseDir === undefined || isAbsolute(dir)) return dir;
  const resolved = resolve(baseDir, dir);
  refuseArchiveLeftBehind(dir, resolved, `${path}.archive.dir`);
  return resolved;
}

/**
 * Earlier releases resolved a relative archive path against the working directory. A store whose
 * archive was written there would now look for it beside the store, find none, and leave its archived
 * events out of `includeArchived` reads without a word: refuse loudly instead, saying where it is.
 */
function refuseArchiveLeftBehind(dir: string, resolved: string, path: string): void {
  const old = resolve(dir);
  if (old === resolved || existsSync(join(resolved, 'manifest.json'))) return;
  if (!existsSync(join(old, 'manifest.json'))) return;
  throw new ValidationError(
    path,
    `${JSON.stringify(dir)} now resolves against the store directory, to ${resolved}, which holds no ` +
      `archive, but the working directory's ${old} does: move that archive to ${resolved}, or give ` +
      `its absolute path`,
    'ARCHIVE_DIR_MOVED',
  );
}

/** A checked retention policy: answers "how long does an event of this type live". */
export class RetentionPolicy {
  private readonly rules: TypeRule[];
  private readonly cache = new Map<string, number>();

  private constructor(
    readonly maxAge: number,
    rules: TypeRule[],
    readonly maxEvents: number,
    /** Where cleanup archives events before removing them; undefined: it removes them outright. */
    readonly archiveDir: string | undefined = undefined,
    /** Cron expression for scheduled cleanup, or false for manual only. */
    readonly schedule: string | false = DEFAULT_SCHEDULE,
    readonly onExpired: 'reject' | 'archive' = 'reject',
    /** The options it was made from, as given (recorded for tools: policy-file.ts). */
    readonly source: RetentionOptions | undefined = undefined,
    /** Share of removable events a scheduled cleanup waits for (see RetentionOptions). */
    readonly cleanupThreshold = DEFAULT_CLEANUP_THRESHOLD,
  ) {
    this.rules = rules.sort((a, b) => b.rank - a.rank);
  }

  static none(): RetentionPolicy {
    return new RetentionPolicy(Infinity, [], Infinity, undefined);
  }

  /**
   * Checks a policy at the door; every message names the bad value (`retention.types["DEBUG.*"]`).
   * `baseDir` (the store's directory) is what a relative `archive.dir` resolves against; without
   * one (an in-memory store) the path is kept as given.
   */
  static from(input: unknown, path = 'retention', baseDir?: string): RetentionPolicy {
    if (input === undefined) return RetentionPolicy.none();
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ValidationError(
        path,
        `must be an object like { maxAge: '30d' }, got ${describe(input)}`,
        'INVALID_OPTION',
      );
    }
    const options = input as Record<string, unknown>;
    for (const key of Object.keys(options)) {
      if (!KEYS.has(key)) {
        throw new ValidationError(
          `${path}.${key}`,
          `unknown option; expected ${[...KEYS].join(', ')}`,
          'INVALID_OPTION',
        );
      }
    }
    const maxAge = options.maxAge === undefined ? Infinity : parseDuration(options.maxAge, `${path}.maxAge`);
    const types = options.types ?? {};
    if (types === null || typeof types !== 'object' || Array.isArray(types)) {
      throw new ValidationError(
        `${path}.types`,
        `must map types to durations, got ${describe(types)}`,
        'INVALID_OPTION',
      );
    }
    const rules = Object.entries(types as Record<string, unknown>).map(([pattern, value]): TypeRule => {
      const where = `${path}.types[${JSON.stringify(pattern)}]`;
      if (pattern.length === 0)
        throw new ValidationError(where, 'a type pattern must not be empty', 'INVALID_OPTION');
      return {
        pattern,
        test: globTest(pattern),
        maxAge: value === 'forever' ? Infinity : parseDuration(value, where),
        rank: pattern.includes('*') ? pattern.replaceAll('*', '').length : Number.MAX_SAFE_INTEGER,
      };
    });
    const maxEvents = options.maxEvents;
    if (
      maxEvents !== undefined &&
      (typeof maxEvents !== 'number' || !Number.isSafeInteger(maxEvents) || maxEvents < 1)
    ) {
      throw new ValidationError(
        `${path}.maxEvents`,
        `must be a positive integer, got ${describe(maxEvents)}`,
        'INVALID_OPTION',
      );
    }
    const archiveDir = archiveDirOf(options.archive, path, baseDir);
    const onExpired = options.onExpired ?? 'reject';
    if (onExpired !== 'reject' && onExpired !== 'archive') {
      throw new ValidationError(
        `${path}.onExpired`,
        `must be 'reject' or 'archive', got ${describe(onExpired)}`,
        'INVALID_OPTION',
      );
    }
    if (onExpired === 'archive' && archiveDir === undefined) {
      throw new ValidationError(
        `${path}.onExpired`,
        `'archive' needs somewhere to archive to: set ${path}.archive to { dir: './archive' }`,
        'INVALID_OPTION',
      );
    }
    return new RetentionPolicy(
      maxAge,
      rules,
      maxEvents ?? Infinity,
      archiveDir,
      scheduleOf(options.schedule, `${path}.schedule`),
      onExpired,
      structuredClone(options) as RetentionOptions,
      thresholdOf(options.cleanupThreshold, `${path}.cleanupThreshold`),
    );
  }

  /** Whether anything can ever expire under this policy. */
  get active(): boolean {
    return (
      this.maxAge !== Infinity ||
      this.maxEvents !== Infinity ||
      this.rules.some((rule) => rule.maxAge !== Infinity)
    );
  }

  /** How long events of this type live, in ms (Infinity: forever). */
  maxAgeOf(type: string): number {
    let age = this.cache.get(type);
    if (age === undefined) {
      age = this.rules.find((rule) => rule.test(type))?.maxAge ?? this.maxAge;
      this.cache.set(type, age);
    }
    return age;
  }

  /** The policy as plain data, for stats() and the CLI. */
  describe(): PolicyDescription {
    const show = (ms: number) => (ms === Infinity ? 'forever' : formatDuration(ms));
    return {
      maxAge: show(this.maxAge),
      types: Object.fromEntries(this.rules.map((rule) => [rule.pattern, show(rule.maxAge)])),
      maxEvents: this.maxEvents === Infinity ? null : this.maxEvents,
      archive: this.archiveDir === undefined ? null : { dir: this.archiveDir },
      schedule: this.schedule,
      cleanupThreshold: this.cleanupThreshold,
      onExpired: this.onExpired,
    };
  }
}

export interface PolicyDescription {
  maxAge: string;
  types: Record<string, string>;
  maxEvents: number | null;
  archive: { dir: string } | null;
  schedule: string | false;
  cleanupThreshold: number;
  onExpired: 'reject' | 'archive';
}

function thresholdOf(value: unknown, path: string): number {
  if (value === undefined) return DEFAULT_CLEANUP_THRESHOLD;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValidationError(
      path,
      `must be a share from 0 to 1 (like 0.2), got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  return value;
}

function scheduleOf(value: unknown, path: string): string | false {
  if (value === undefined) return DEFAULT_SCHEDULE;
  if (value === false) return false;
  if (typeof value !== 'string' || !isCronExpression(value)) {
    throw new ValidationError(
      path,
      `must be a cron expression like '0 * * * *' (hourly) or false, got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  return value;
}

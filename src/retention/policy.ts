import { ValidationError } from '../errors.js';
import { describe } from '../store/options.js';
import { formatDuration, parseDuration, type Duration } from './duration.js';

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
  /** Keep at most this many live events: the oldest (by sequence) expire first. */
  maxEvents?: number;
  /**
   * Cold storage for events that leave the store: a directory (see src/retention/archive.ts).
   * `queryEvents(criteria, { includeArchived: true })` reads it.
   */
  archive?: { dir: string };
}

interface TypeRule {
  pattern: string;
  test: (type: string) => boolean;
  /** Milliseconds, or Infinity for 'forever'. */
  maxAge: number;
  /** Exact types win over patterns; among patterns the longest (most specific) wins. */
  rank: number;
}

const KEYS = new Set(['maxAge', 'types', 'maxEvents', 'archive']);

function globTest(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) return (type) => type === pattern;
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  const regex = new RegExp(`^${escaped}$`);
  return (type) => regex.test(type);
}

/** A checked retention policy: answers "how long does an event of this type live". */
export class RetentionPolicy {
  private readonly rules: TypeRule[];
  private readonly cache = new Map<string, number>();

  private constructor(
    readonly maxAge: number,
    rules: TypeRule[],
    readonly maxEvents: number,
    /** Where archived events live, when an archive is configured. */
    readonly archiveDir: string | undefined,
  ) {
    this.rules = rules.sort((a, b) => b.rank - a.rank);
  }

  static none(): RetentionPolicy {
    return new RetentionPolicy(Infinity, [], Infinity, undefined);
  }

  /** Checks a policy at the door; every message names the bad value (`retention.types["DEBUG.*"]`). */
  static from(input: unknown, path = 'retention'): RetentionPolicy {
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
          'unknown option; expected maxAge, types, maxEvents, archive',
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
    return new RetentionPolicy(maxAge, rules, maxEvents ?? Infinity, archiveDirOf(options.archive, path));
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
  describe(): { maxAge: string; types: Record<string, string>; maxEvents: number | null } {
    const show = (ms: number) => (ms === Infinity ? 'forever' : formatDuration(ms));
    return {
      maxAge: show(this.maxAge),
      types: Object.fromEntries(this.rules.map((rule) => [rule.pattern, show(rule.maxAge)])),
      maxEvents: this.maxEvents === Infinity ? null : this.maxEvents,
    };
  }
}

function archiveDirOf(archive: unknown, path: string): string | undefined {
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
  return dir;
}

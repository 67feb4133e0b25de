import { ValidationError } from '../../errors.js';
import { parseDuration, type Duration } from '../../events/duration.js';
import { describe } from '../../support/describe.js';

/** 64 MiB: room for thousands of dashboard answers, far under the seed's 500 MB ceiling. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** The `cache` option, checked: off, or on with its byte budget and default ttl (ms, Infinity: none). */
export interface CacheSettings {
  readonly enabled: boolean;
  readonly maxBytes: number;
  readonly ttl: number;
}

const KEYS = ['maxBytes', 'ttl'];

/** Checks openEventStore's `cache` option at the door; every message names the bad value. */
export function resolveCacheOptions(option: unknown): CacheSettings {
  if (option === undefined || option === false) {
    return { enabled: false, maxBytes: DEFAULT_MAX_BYTES, ttl: Infinity };
  }
  if (option === true) return { enabled: true, maxBytes: DEFAULT_MAX_BYTES, ttl: Infinity };
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new ValidationError(
      'cache',
      `must be true, false or { maxBytes, ttl }, got ${describe(option)}`,
      'INVALID_OPTION',
    );
  }
  const input = option as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) {
      throw new ValidationError(
        `cache.${key}`,
        `unknown option; expected ${KEYS.join(' or ')}`,
        'INVALID_OPTION',
      );
    }
  }
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
    throw new ValidationError(
      'cache.maxBytes',
      `must be a whole number of bytes, at least 1024 (like 67108864 for 64 MiB), got ${describe(maxBytes)}`,
      'INVALID_OPTION',
    );
  }
  return { enabled: true, maxBytes, ttl: optionalTtl(input.ttl, 'cache.ttl') };
}

/** A ttl in ms (Infinity when absent), or a ValidationError naming `path`. */
export function optionalTtl(value: unknown, path: string): number {
  return value === undefined ? Infinity : parseDuration(value as Duration, path);
}

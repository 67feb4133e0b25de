import { ValidationError } from '../../errors.js';
import type { SkippedEvents } from '../../store/subscription-types.js';
import { describe } from '../../support/describe.js';
import { compileWhere, type EventMatcher } from './event-matcher.js';

export const DEFAULT_BATCH_SIZE = 500;
export const MAX_BATCH_SIZE = 10_000;
/** The live buffer's default bounds: what a stalled consumer may cost the store at most. */
export const DEFAULT_BUFFER_EVENTS = 1_000;
export const DEFAULT_BUFFER_BYTES = 1024 * 1024;

const KNOWN = ['after', 'where', 'name', 'batchSize', 'signal', 'onCaughtUp', 'onSkipped', 'buffer'];
/** A name becomes a file name in the store directory: nothing a path could misread. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** SubscribeOptions checked at the door. */
export interface SubscriptionSettings {
  /** A sequence, or 'end' (resolved against the store's last sequence when the subscription starts). */
  readonly after: number | 'end';
  readonly matches: EventMatcher | undefined;
  readonly name: string | undefined;
  readonly batchSize: number;
  readonly signal: AbortSignal | undefined;
  readonly onCaughtUp: ((sequence: number) => void) | undefined;
  readonly onSkipped: ((skip: SkippedEvents) => void) | undefined;
  readonly bufferEvents: number;
  readonly bufferBytes: number;
}

function integerIn(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(
      path,
      `must be an integer from ${min} to ${max.toLocaleString('en-US')}, got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  return value;
}

function optionalFunction<F>(value: unknown, path: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new ValidationError(path, `must be a function, got ${describe(value)}`, 'INVALID_OPTION');
  }
  return value as F;
}

export function checkName(name: unknown, path: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ValidationError(
      path,
      `must be 1 to 100 letters, digits, '.', '_' or '-' (not starting with '.', '_' or '-'), got ${describe(name)}`,
      'INVALID_OPTION',
    );
  }
  return name;
}

export function checkSubscribeOptions(options: unknown): SubscriptionSettings {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', `must be an object, got ${describe(options)}`, 'INVALID_OPTION');
  }
  const input = options as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KNOWN.includes(key)) {
      throw new ValidationError(
        `options.${key}`,
        `is not a subscribe option; expected one of ${KNOWN.join(', ')}`,
        'INVALID_OPTION',
      );
    }
  }
  const after = input.after ?? 0;
  if (after !== 'end' && (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0)) {
    throw new ValidationError(
      'options.after',
      `must be a sequence (a non-negative integer; 0 for the beginning) or 'end', got ${describe(after)}`,
      'INVALID_OPTION',
    );
  }
  const signal = input.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError(
      'options.signal',
      `must be an AbortSignal, got ${describe(signal)}`,
      'INVALID_OPTION',
    );
  }
  const buffer = input.buffer ?? {};
  if (buffer === null || typeof buffer !== 'object' || Array.isArray(buffer)) {
    throw new ValidationError(
      'options.buffer',
      `must be an object like { events: 1000, bytes: 1048576 }, got ${describe(buffer)}`,
      'INVALID_OPTION',
    );
  }
  const { events, bytes, ...other } = buffer as Record<string, unknown>;
  const extra = Object.keys(other)[0];
  if (extra !== undefined) {
    throw new ValidationError(
      `options.buffer.${extra}`,
      'is not a buffer option; expected events or bytes',
      'INVALID_OPTION',
    );
  }
  return {
    after,
    matches: compileWhere(input.where),
    name: input.name === undefined ? undefined : checkName(input.name, 'options.name'),
    batchSize: integerIn(input.batchSize, 'options.batchSize', 1, MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE),
    signal,
    onCaughtUp: optionalFunction(input.onCaughtUp, 'options.onCaughtUp'),
    onSkipped: optionalFunction(input.onSkipped, 'options.onSkipped'),
    bufferEvents: integerIn(events, 'options.buffer.events', 1, 1_000_000, DEFAULT_BUFFER_EVENTS),
    bufferBytes: integerIn(bytes, 'options.buffer.bytes', 1024, 1024 * 1024 * 1024, DEFAULT_BUFFER_BYTES),
  };
}

import { ValidationError, type ExpectedVersion } from '../errors.js';
import type { NewEvent } from '../events/types.js';
import { optionalInteger, requireObject } from '../query/criteria.js';
import type { CleanupOptions } from '../retention/cleanup-report.js';
import { describe } from '../support/describe.js';
import { requireNonEmptyString } from '../support/require-string.js';

/** The door's checks of arguments that are not events or queries (those have validators of their own). */

export function requireStreamName(aggregateId: unknown): asserts aggregateId is string {
  requireNonEmptyString(aggregateId, 'aggregateId');
}

export function checkExpectedVersion(value: unknown): ExpectedVersion {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new ValidationError(
    'options.expectedVersion',
    `must be a non-negative integer, 'no_stream', 'stream_exists' or 'any', got ${describe(value)}`,
  );
}

/** appendToStream's events with the stream's aggregateId; one naming another stream is refused. */
export function streamEvents(aggregateId: string, list: readonly Partial<NewEvent>[]): unknown[] {
  return list.map((event, i) => {
    if (
      event !== null &&
      typeof event === 'object' &&
      event.aggregateId !== undefined &&
      event.aggregateId !== aggregateId
    ) {
      throw new ValidationError(
        `events[${i}].aggregateId`,
        `is ${describe(event.aggregateId)} but the stream is ${describe(aggregateId)}`,
      );
    }
    return event !== null && typeof event === 'object' ? { ...event, aggregateId } : event;
  });
}

export function checkCleanupOptions(options: unknown): CleanupOptions {
  const input = requireObject(options, 'options');
  const sliceRows = optionalInteger(input.sliceRows, 'options.sliceRows');
  if (sliceRows !== undefined && sliceRows < 1)
    throw new ValidationError('options.sliceRows', `must be a positive integer, got ${sliceRows}`);
  const threshold = input.threshold;
  if (threshold !== undefined && (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)))
    throw new ValidationError('options.threshold', `must be a share from 0 to 1, got ${describe(threshold)}`);
  const onProgress = input.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function')
    throw new ValidationError('options.onProgress', `must be a function, got ${describe(onProgress)}`);
  return {
    ...(sliceRows === undefined ? {} : { sliceRows }),
    ...(threshold === undefined ? {} : { threshold }),
    ...(onProgress === undefined ? {} : { onProgress: onProgress as CleanupOptions['onProgress'] }),
  };
}

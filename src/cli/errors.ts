import { CommanderError } from 'commander';
import { TammaError, UniqueViolationError, ValidationError, type ErrorCode } from '../index.js';

/** Exit statuses, stable for scripts: success, an operational failure, bad usage or bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line itself is wrong: a missing file, a store directory that does not exist, ... */
export class UsageError extends TammaError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** The input data is wrong (e.g. bad NDJSON lines); what was written before it is kept. */
export class InputError extends TammaError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}

/** Stdout went away (`tamma-events query ... | head`): stop quietly, the consumer has what it wanted. */
export class OutputClosedError extends TammaError {
  constructor(cause?: unknown) {
    super('OUTPUT_CLOSED', 'the output stream was closed', { cause });
  }
}

/** Store errors that name something the command line got wrong: a mistyped or already taken index name. */
const USAGE_CODES = new Set<ErrorCode>(['INDEX_NOT_FOUND', 'INDEX_EXISTS']);

/** Maps an error to the exit status: bad input is the caller's to fix (2), anything else is 1. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof OutputClosedError) return EXIT_OK;
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  // Building a unique index over stored duplicates is the data's conflict, not the command line's.
  if (error instanceof UniqueViolationError && error.sequences !== undefined) return EXIT_FAILURE;
  if (error instanceof ValidationError || error instanceof UsageError || error instanceof InputError) {
    return EXIT_USAGE;
  }
  if (error instanceof TammaError && USAGE_CODES.has(error.code)) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** `error: <message> [CODE]`, plus the stack only when asked for: users need the what, not the where. */
export function formatError(error: unknown, debug: boolean): string {
  if (error instanceof TammaError) {
    const line = `error: ${error.message} [${error.code}]`;
    return debug && error.stack ? `${line}\n${error.stack}` : line;
  }
  if (error instanceof Error) {
    const line = `error: ${error.message}`;
    return debug && error.stack ? `${line}\n${error.stack}` : line;
  }
  return `error: ${String(error)}`;
}

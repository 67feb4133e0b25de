import { ValidationError } from '../index.js';

/** One input line that cannot be written, with a message that names the field. */
export interface BadLine {
  line: number;
  message: string;
}

const BATCH_INDEX = /^events\[(\d+)\]/;

/** The batch index a ValidationError points at (`events[3].type` → 3), if any. */
export function batchIndexOf(error: ValidationError): number | undefined {
  const match = BATCH_INDEX.exec(error.path);
  return match ? Number(match[1]) : undefined;
}

/**
 * Rewrites a batch-relative validation error in terms of input lines:
 * `events[3].type: must be a non-empty string` → `type: must be a non-empty string`, and any other
 * `events[i]` the message mentions (a duplicate id names the first one) → `line N`.
 */
export function describeBatchError(
  error: ValidationError,
  lineOf: (index: number) => number | undefined,
): string {
  const prefix = `${error.path}: `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const field = error.path.replace(BATCH_INDEX, '').replace(/^\./, '');
  const text = field ? `${field}: ${detail}` : detail;
  return text.replace(/events\[(\d+)\]/g, (whole, index: string) => {
    const line = lineOf(Number(index));
    return line === undefined ? whole : `line ${line}`;
  });
}

/** `line 17: type: must be ...` */
export function formatBadLine(bad: BadLine): string {
  return `line ${bad.line}: ${bad.message}`;
}

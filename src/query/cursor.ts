import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import type { OrderTerm, PageCursor, Scalar } from './ast.js';

/** The order a cursor was made for, so a cursor is never applied to a query sorted differently. */
function orderSignature(order: readonly OrderTerm[]): string {
  return order.map((term) => `${term.field} ${term.direction}`).join(',') || 'sequence asc';
}

/**
 * A page cursor as an opaque, URL-safe string (what an HTTP API hands its clients): the last row's
 * sequence and sort keys, and the order they belong to.
 */
export function encodeCursor(cursor: PageCursor, order: readonly OrderTerm[]): string {
  const body = { o: orderSignature(order), s: cursor.sequence, ...(cursor.keys ? { k: cursor.keys } : {}) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(text: unknown, order: readonly OrderTerm[]): PageCursor {
  const bad = (why: string) =>
    new ValidationError(
      'after',
      `${why}; pass the cursor a previous executePage() returned, got ${describe(text)}`,
    );
  if (typeof text !== 'string' || text.length === 0) throw bad('must be a cursor string');
  let body: { o?: unknown; s?: unknown; k?: unknown };
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as typeof body;
  } catch {
    throw bad('is not a cursor');
  }
  if (body === null || typeof body !== 'object' || typeof body.s !== 'number') throw bad('is not a cursor');
  if (body.o !== orderSignature(order)) {
    throw bad(
      `was made for order "${String(body.o)}", but this query is ordered by "${orderSignature(order)}"`,
    );
  }
  return Object.freeze({
    sequence: body.s,
    ...(Array.isArray(body.k) ? { keys: Object.freeze([...(body.k as Scalar[])]) } : {}),
  });
}

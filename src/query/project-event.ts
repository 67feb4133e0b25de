import type { StoredEvent } from '../events/types.js';
import { ownTag, readPath, resolveField } from './fields.js';

/**
 * A query's `select` applied to one event: only the selected fields, under the names given
 * (`payload.order.total`); the whole event without a select.
 */
export function projectEvent(
  event: StoredEvent,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  if (select === undefined) return event as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of select) {
    const ref = resolveField(field, 'select');
    out[field] =
      ref.kind === 'core'
        ? event[ref.name]
        : ref.kind === 'tag'
          ? ownTag(event.tags, ref.key)
          : readPath(event.payload, ref.path);
  }
  return out;
}

import type { StoredEvent } from '../../events/types.js';

/** A StoredEvent object, its Date and its empty containers, before any string or value in it. */
const OBJECT_OVERHEAD = 240;

/**
 * About how much memory an event holds, for the live buffer's byte bound: its strings at two bytes
 * a character (the worst case of V8's string forms) and its payload, tags and metadata at two bytes
 * a character of their JSON. An estimate that errs high, computed once per committed event however
 * many subscriptions buffer it.
 */
export function estimateEventBytes(event: StoredEvent): number {
  let characters = event.id.length + event.aggregateId.length + event.type.length;
  if (event.payload !== null && event.payload !== undefined) characters += jsonLength(event.payload);
  if (Object.keys(event.tags).length > 0) characters += jsonLength(event.tags);
  if (Object.keys(event.metadata).length > 0) characters += jsonLength(event.metadata);
  return OBJECT_OVERHEAD + 2 * characters;
}

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    // A value JSON cannot write was refused at append; should one reach here, count it as large.
    return 64 * 1024;
  }
}

import type { StoredEvent } from '../index.js';

/**
 * One NDJSON line for a stored event, with the fields in a fixed order and the timestamp as an ISO
 * string, so output diffs cleanly and can be ingested into another store (`ingest` drops sequence
 * and version, which the target store assigns afresh).
 */
export function eventToJsonLine(event: StoredEvent): string {
  return `${JSON.stringify({
    sequence: event.sequence,
    id: event.id,
    aggregateId: event.aggregateId,
    version: event.version,
    type: event.type,
    timestamp: event.timestamp.toISOString(),
    tags: event.tags,
    payload: event.payload,
    metadata: event.metadata,
  })}\n`;
}

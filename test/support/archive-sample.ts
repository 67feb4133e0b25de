import type { EventStore, ManualClock, RetentionOptions, StoredEvent } from '../../src/index.js';

/** The retention policy of the archive tests: an hour, KEEP.* forever, archived to `archive`, no schedule. */
export function archiveRetention(archive: string | undefined): { retention?: RetentionOptions } {
  if (archive === undefined) return {};
  return {
    retention: { maxAge: '1h', types: { 'KEEP.*': 'forever' }, archive: { dir: archive }, schedule: false },
  };
}

/** 60 events a minute apart over three streams; every fifth is KEEP.x (never expires). */
export async function fillArchiveSample(store: EventStore, clock: ManualClock): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const [event] = await store.append({
      aggregateId: `s${i % 3}`,
      type: i % 5 === 0 ? 'KEEP.x' : 'T',
      timestamp: clock.now(),
      tags: { n: i },
      payload: { i, text: 'x'.repeat(40) },
    });
    out.push(event as StoredEvent);
    clock.advance(60_000);
  }
  return out;
}

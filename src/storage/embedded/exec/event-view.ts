import type { StoredEvent, Tags } from '../../../events/types.js';
import type { FieldSource } from './compile-filter.js';
import { ownTag, readPath, type FieldRef } from '../../../query/fields.js';

/**
 * An event as the filter compiler sees it before it is in the table: what an append knows about
 * each event before writing it (unique indexes must check keys before anything is written).
 */
export interface EventView {
  sequence: number;
  id: string;
  aggregateId: string;
  version: number;
  type: string;
  /** Epoch milliseconds, as the timestamp column holds it. */
  timestamp: number;
  tags: Tags;
  payload: unknown;
}

export function viewGetter(ref: FieldRef): (view: EventView) => unknown {
  if (ref.kind === 'tag') return (view) => ownTag(view.tags, ref.key);
  if (ref.kind === 'payload') return (view) => readPath(view.payload, ref.path);
  const name = ref.name;
  return (view) => view[name];
}

export const VIEW_SOURCE: FieldSource<EventView> = { getter: viewGetter };

export function toView(event: StoredEvent): EventView {
  return { ...event, timestamp: event.timestamp.getTime() };
}

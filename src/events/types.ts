/** A tag value: tags are the indexed attributes of an event (issueId, provider, ...). */
export type TagValue = string | number | boolean;
export type Tags = Record<string, TagValue>;

/** What callers append. Only `aggregateId` and `type` are required. */
export interface NewEvent<P = unknown> {
  /** The stream this event belongs to. */
  aggregateId: string;
  /** The event type, e.g. `'WORKFLOW.COMPLETED'`. */
  type: string;
  /** Any JSON-compatible value; stored as `null` when absent. */
  payload?: P;
  /** Indexed attributes. */
  tags?: Tags;
  /** Event time; defaults to the store's clock. Accepts a Date, epoch milliseconds or an ISO-8601 string. */
  timestamp?: Date | number | string;
  /** Free-form context: correlationId, causationId, user, ... */
  metadata?: Record<string, unknown>;
  /** Defaults to a UUIDv7. */
  id?: string;
}

/** What the store returns. */
export interface StoredEvent<P = unknown> {
  /** Global position: 1, 2, 3 ... gap-free in the embedded engine. */
  sequence: number;
  id: string;
  aggregateId: string;
  /** Position within its aggregate: 1, 2, 3 ... */
  version: number;
  type: string;
  timestamp: Date;
  tags: Readonly<Tags>;
  payload: P;
  metadata: Readonly<Record<string, unknown>>;
}

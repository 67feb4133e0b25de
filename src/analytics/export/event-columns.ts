/**
 * Whole events as the nine export columns, built by the storage engine straight from its columns
 * and records (StorageEngine.exportEvents): what an export of whole events writes to Arrow and
 * Parquet without making a StoredEvent, and a JSON string of its tags, payload and metadata, per row.
 */

/** An Arrow Utf8 column: value i is `data[offsets[i], offsets[i + 1])`, null where its validity bit is clear. */
export interface TextVector {
  readonly data: Uint8Array;
  readonly offsets: Int32Array;
  readonly validity: Uint8Array;
  readonly nulls: number;
}

/** One batch of events, column by column, in the query's order (see EVENT_COLUMNS). */
export interface EventColumns {
  readonly length: number;
  readonly sequence: BigInt64Array;
  readonly id: TextVector;
  readonly aggregateId: TextVector;
  readonly version: BigInt64Array;
  readonly type: TextVector;
  /** Epoch milliseconds. */
  readonly timestamp: BigInt64Array;
  /** JSON text, as `JSON.stringify` writes the event's tags, payload and metadata (null for a null payload). */
  readonly tags: TextVector;
  readonly payload: TextVector;
  readonly metadata: TextVector;
}

/** How an export asks for event columns: rows per batch. */
export interface EventColumnsRequest {
  readonly batchRows: number;
}

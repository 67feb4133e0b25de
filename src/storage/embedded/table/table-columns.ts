// The table's per-row columns by name (EventTable), for what walks all of them: the cut letting
// go of chunks (table-cut.ts) and the checkpoint's snapshot (table-snapshot.ts).

export const COLUMN_NAMES = [
  'timestamp',
  'typeId',
  'aggregateId',
  'version',
  'recordOffset',
  'recordLength',
] as const;

export type ColumnName = (typeof COLUMN_NAMES)[number];

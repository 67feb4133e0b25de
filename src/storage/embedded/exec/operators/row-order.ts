import type { DecodedBody } from '../../../../codec/record-codec.js';
import { compareKeyParts } from '../../../../indexes/index-keys.js';
import type { OrderTerm, PageCursor, Scalar } from '../../../../query/ast.js';
import { resolveField } from '../../../../query/fields.js';
import type { EventTable } from '../../table/event-table.js';
import { fieldGetter } from '../compile-filter.js';

type SortValue = string | number | boolean | null | undefined;

function sortValue(
  term: OrderTerm,
  table: EventTable,
  body: (row: number) => DecodedBody,
): (row: number) => SortValue {
  const get = fieldGetter(resolveField(term.field, 'orderBy.field'), table, body);
  // Objects and arrays have no order: they sort as missing.
  return (row) => {
    const value = get(row);
    return value === null || typeof value !== 'object' ? (value as SortValue) : undefined;
  };
}

/** Missing values (undefined and null alike) sort last; values of different types sort boolean < number < string. */
function compareValues(a: SortValue, b: SortValue): number {
  const missingA = a === undefined || a === null;
  const missingB = b === undefined || b === null;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  return compareKeyParts(a, b);
}

/** Buffered rows past this many times the rows wanted are cut back to the best `wanted`: top-k. */
const TOP_K_SLACK = 2;

/**
 * Orders matching rows by the query's terms, ascending sequence breaking ties, so results are
 * deterministic. With a limit it keeps only the best offset + limit rows seen so far (sorting and
 * cutting whenever twice that many are buffered), so memory stays O(limit) however many match.
 * With a cursor, only rows strictly after it are kept.
 */
export class RowOrder {
  private readonly getters: ((row: number) => SortValue)[];
  private rows: number[] = [];
  private keys: SortValue[][] = [];

  constructor(
    private readonly order: readonly OrderTerm[],
    table: EventTable,
    body: (row: number) => DecodedBody,
    private readonly after: PageCursor | undefined,
  ) {
    this.getters = order.map((term) => sortValue(term, table, body));
  }

  /** The row's sort key: what a cursor after it holds (missing as null). */
  static keyOf(
    order: readonly OrderTerm[],
    table: EventTable,
    body: (row: number) => DecodedBody,
    row: number,
  ): Scalar[] {
    return order.map((term) => sortValue(term, table, body)(row) ?? null);
  }

  private compare(kx: readonly SortValue[], rx: number, ky: readonly SortValue[], ry: number): number {
    for (let t = 0; t < this.order.length; t++) {
      const missingX = kx[t] === undefined || kx[t] === null;
      const missingY = ky[t] === undefined || ky[t] === null;
      let c = compareValues(kx[t], ky[t]);
      // Missing values stay last whichever the direction.
      if (c !== 0 && !(missingX || missingY) && this.order[t]?.direction === 'desc') c = -c;
      if (c !== 0) return c;
    }
    return rx - ry;
  }

  offer(row: number, wanted: number): void {
    const key = this.getters.map((get) => get(row));
    const after = this.after;
    if (after !== undefined && this.compare(key, row, after.keys ?? [], after.sequence - 1) <= 0) return;
    this.rows.push(row);
    this.keys.push(key);
    if (this.rows.length >= Math.max(1024, wanted * TOP_K_SLACK)) this.cut(wanted);
  }

  private cut(wanted: number): void {
    const index = this.rows.map((_, i) => i);
    index.sort((x, y) =>
      this.compare(
        this.keys[x] as SortValue[],
        this.rows[x] as number,
        this.keys[y] as SortValue[],
        this.rows[y] as number,
      ),
    );
    const keep = index.slice(0, wanted === Infinity ? index.length : wanted);
    this.rows = keep.map((i) => this.rows[i] as number);
    this.keys = keep.map((i) => this.keys[i] as SortValue[]);
  }

  sorted(wanted: number): number[] {
    this.cut(wanted);
    return this.rows;
  }
}

/** The sort key of a row under the query's order, for a page cursor. */
export const sortKeyOf = RowOrder.keyOf;

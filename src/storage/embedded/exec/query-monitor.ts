import type { EventQuery } from '../../../query/ast.js';

/** Query shapes remembered; past it, the least recently run shape is forgotten. */
const CAPACITY = 1000;

/** What the store has seen of one query shape (a fingerprint): the index advisor's evidence. */
export interface QueryShapeStats {
  fingerprint: string;
  /** The latest query of this shape, constants included: what the advisor plans with. */
  example: EventQuery;
  calls: number;
  totalTimeMs: number;
  /** Rows the access paths produced, over all calls. */
  rowsExamined: number;
  /** Rows returned, over all calls. */
  rowsReturned: number;
  /** Access paths used, by how often. */
  accessPaths: Record<string, number>;
}

/** Per-fingerprint query statistics, fed by every executed query. */
export class QueryMonitor {
  private readonly shapes = new Map<string, QueryShapeStats>();

  record(
    fingerprint: string,
    example: EventQuery,
    accessPath: string,
    timeMs: number,
    examined: number,
    returned: number,
  ): void {
    let shape = this.shapes.get(fingerprint);
    if (shape === undefined) {
      shape = {
        fingerprint,
        example,
        calls: 0,
        totalTimeMs: 0,
        rowsExamined: 0,
        rowsReturned: 0,
        accessPaths: {},
      };
    } else this.shapes.delete(fingerprint);
    this.shapes.set(fingerprint, shape);
    if (this.shapes.size > CAPACITY) this.shapes.delete(this.shapes.keys().next().value as string);
    shape.example = example;
    shape.calls++;
    shape.totalTimeMs += timeMs;
    shape.rowsExamined += examined;
    shape.rowsReturned += returned;
    shape.accessPaths[accessPath] = (shape.accessPaths[accessPath] ?? 0) + 1;
  }

  /** Every shape seen, the most total time first. */
  shapesByTime(): QueryShapeStats[] {
    return [...this.shapes.values()].sort((a, b) => b.totalTimeMs - a.totalTimeMs);
  }

  get executions(): number {
    let total = 0;
    for (const shape of this.shapes.values()) total += shape.calls;
    return total;
  }
}

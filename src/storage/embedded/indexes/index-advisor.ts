import type { EventQuery, FilterNode } from '../../../query/ast.js';
import { COLUMN_CHECK, RECORD_DECODE } from '../exec/access-path.js';
import { canonicalJson } from '../../../query/canonical.js';
import { needsRecord } from '../exec/compile-filter.js';
import type { QueryMonitor } from '../exec/query-monitor.js';
import { conjuncts, type QueryPlan } from '../exec/query-optimizer.js';
import type { EventTable } from '../table/event-table.js';
import { sameShape, type ResolvedIndexDefinition } from '../../../indexes/index-definition.js';
import type { Statistics } from './statistics.js';
import type { UserIndex } from './user-index.js';
import type { IndexOptimizationResult, IndexRecommendation } from '../../../indexes/index-types.js';

/** An index is proposed only if it would cut the estimated cost of the queries it serves this much. */
const MIN_IMPROVEMENT = 0.5;
const MAX_FIELDS = 3;
/** Rough bytes an index spends per event it covers (posting link plus key share), for budgets. */
const BYTES_PER_ENTRY = 16;

/** Which fields of a query an index could answer: equalities first, then one range. */
function candidateFields(query: EventQuery): string[] {
  const equal: string[] = [];
  let range: string | undefined;
  for (const term of conjuncts(query.filter)) {
    if (!('field' in term) || term.field === 'sequence') continue;
    if ((term.kind === 'eq' && term.value !== null) || term.kind === 'in') {
      if (!equal.includes(term.field)) equal.push(term.field);
    } else if (['lt', 'lte', 'gt', 'gte', 'between'].includes(term.kind)) range ??= term.field;
  }
  const fields = equal.slice(0, MAX_FIELDS);
  if (range !== undefined && !fields.includes(range) && fields.length < MAX_FIELDS) fields.push(range);
  return fields;
}

/**
 * Built-in postings already answer equality on one of these fields, time ranges, and equality on
 * both aggregateId and type (the aggregate+type postings, exact where the planner's estimate of
 * them is only the smaller list's size, which made [aggregateId, type] look worth building).
 */
function builtInCovers(fields: readonly string[], query: EventQuery): boolean {
  if (fields.length === 2 && fields.includes('aggregateId') && fields.includes('type')) {
    const terms = conjuncts(query.filter);
    return fields.every((field) => terms.some((term) => term.kind === 'eq' && term.field === field));
  }
  if (fields.length !== 1) return false;
  const [field] = fields as [string];
  if (field === 'aggregateId' || field === 'type' || field === 'timestamp') return true;
  const terms = conjuncts(query.filter).filter((term) => 'field' in term && term.field === field);
  return field.startsWith('tags.') && terms.every((term) => term.kind === 'eq' || term.kind === 'in');
}

function indexName(fields: readonly string[]): string {
  return `auto_${fields.join('__').replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 64);
}

/**
 * The index advisor: learns from the queries the store runs (per fingerprint: calls, time, rows
 * examined and returned) which indexes would pay, costing each candidate with the planner's own
 * statistics, and finds indexes that are unused or redundant.
 */
export class IndexAdvisor {
  constructor(
    private readonly monitor: QueryMonitor,
    private readonly plan: (query: EventQuery) => QueryPlan,
    private readonly statistics: Statistics,
    private readonly table: EventTable,
    private readonly indexes: () => readonly UserIndex[],
  ) {}

  recommend(): IndexRecommendation[] {
    const byFields = new Map<string, IndexRecommendation>();
    for (const shape of this.monitor.shapesByTime()) {
      const fields = candidateFields(shape.example);
      if (fields.length === 0 || builtInCovers(fields, shape.example) || this.covered(fields)) continue;
      const current = this.plan(shape.example).estimatedCost;
      const estimated = this.costWith(fields, shape.example.filter);
      if (estimated > current * (1 - MIN_IMPROVEMENT)) continue;
      const key = fields.join(',');
      const entry = byFields.get(key) ?? {
        definition: { name: indexName(fields), fields, type: 'btree' as const },
        fingerprints: [],
        calls: 0,
        totalTimeMs: 0,
        rowsExamined: 0,
        rowsReturned: 0,
        currentCost: 0,
        estimatedCost: 0,
        improvement: 0,
        expectedTimeSavedMs: 0,
        estimatedBytes: this.bytesFor(fields),
      };
      entry.fingerprints.push(shape.fingerprint);
      entry.calls += shape.calls;
      entry.totalTimeMs += shape.totalTimeMs;
      entry.rowsExamined += shape.rowsExamined;
      entry.rowsReturned += shape.rowsReturned;
      entry.currentCost += current * shape.calls;
      entry.estimatedCost += estimated * shape.calls;
      entry.improvement = 1 - entry.estimatedCost / entry.currentCost;
      entry.expectedTimeSavedMs += shape.totalTimeMs * (1 - estimated / current);
      byFields.set(key, entry);
    }
    return [...byFields.values()].sort((a, b) => b.expectedTimeSavedMs - a.expectedTimeSavedMs);
  }

  /** Whether an existing full (non-partial) index already leads with these fields. */
  private covered(fields: readonly string[]): boolean {
    return this.indexes().some(
      ({ definition }) =>
        definition.where === undefined &&
        fields.every((field, i) => definition.fields[i] === field) &&
        (definition.type === 'btree' || definition.fields.length === fields.length),
    );
  }

  /** The planner's cost of the query were there an index on these fields (rows from statistics). */
  private costWith(fields: readonly string[], filter: FilterNode): number {
    const terms = conjuncts(filter).filter((term) => 'field' in term && fields.includes(term.field));
    const rows =
      this.table.rows * terms.reduce((product, term) => product * this.statistics.selectivity(term), 1);
    const perRow = needsRecord(filter) ? RECORD_DECODE : COLUMN_CHECK;
    return rows * (perRow + COLUMN_CHECK) + 1;
  }

  private bytesFor(fields: readonly string[]): number {
    const present = fields.reduce(
      (share, field) => Math.min(share, this.statistics.analyzeField(field).present),
      1,
    );
    return Math.round(this.table.rows * present * BYTES_PER_ENTRY);
  }

  optimize(): IndexOptimizationResult {
    const indexes = this.indexes();
    const unused = indexes
      .filter((index) => index.uses === 0)
      .map((index) => ({ name: index.name, createdAt: new Date(index.createdAt), bytes: index.bytes }));
    const duplicates: IndexOptimizationResult['duplicates'] = [];
    for (const index of indexes) {
      const other = indexes.find((candidate) => candidate !== index && makesRedundant(candidate, index));
      if (other !== undefined) {
        duplicates.push({
          name: index.name,
          duplicateOf: other.name,
          reason: sameShape(other.definition, index.definition)
            ? 'same fields, type and where'
            : `${other.name} leads with the same fields and serves every query ${index.name} does`,
          bytes: index.bytes,
        });
      }
    }
    const names = new Set([...unused, ...duplicates].map((entry) => entry.name));
    const reclaimableBytes = indexes.filter((i) => names.has(i.name)).reduce((sum, i) => sum + i.bytes, 0);
    return { unused, duplicates, reclaimableBytes };
  }
}

/** Whether `keep` serves every query `drop` does (and `drop` enforces nothing `keep` does not). */
function makesRedundant(keep: UserIndex, drop: UserIndex): boolean {
  const a = keep.definition;
  const b: ResolvedIndexDefinition = drop.definition;
  if (sameShape(a, b))
    return keep.createdAt < drop.createdAt || (keep.createdAt === drop.createdAt && keep.name < drop.name);
  if (b.unique || a.type !== 'btree' || canonicalJson(a.where ?? null) !== canonicalJson(b.where ?? null))
    return false;
  // Same fields with another type or uniqueness: the btree serves every lookup the other does.
  return b.fields.length <= a.fields.length && b.fields.every((field, i) => a.fields[i] === field);
}

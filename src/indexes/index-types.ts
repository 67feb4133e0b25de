import type { FilterNode } from '../query/ast.js';
import type { IndexKey } from './index-keys.js';
import type { Scalar } from '../query/ast.js';

/** One index as `listIndexes` shows it: built-in ones too, so the planner's whole choice is visible. */
export interface IndexInfo {
  name: string;
  fields: string[];
  type: 'btree' | 'hash' | 'postings' | 'time' | 'sequence';
  unique: boolean;
  where?: FilterNode;
  builtIn: boolean;
  /** `building` while an online build or rebuild runs; the planner uses only `ready` indexes. */
  state: 'ready' | 'building';
  entries: number;
  distinctKeys: number;
  bytes: number;
  createdAt?: Date;
}

export interface IndexAnalysis {
  name: string;
  /** Events in the store. */
  rows: number;
  /** Row references the index holds (events it covers). */
  entries: number;
  distinctKeys: number;
  bytes: number;
  /** entries / rows: the share of events a partial index (or one on an optional field) covers. */
  coverage: number;
  /** Average share of all events one key matches: lower is more selective. */
  selectivity: number;
  /** The keys with the most rows, most first (at most 10). */
  topKeys: { key: IndexKey; rows: number }[];
  /** Btree only: up to 10 buckets of about equal rows, in key order, as a planner would see them. */
  histogram?: { from: IndexKey; to: IndexKey; rows: number; keys: number }[];
}

export interface IndexUsage {
  name: string;
  builtIn: boolean;
  /** Queries whose plan used the index. */
  uses: number;
  lastUsed: Date | null;
}

export interface IndexSize {
  name: string;
  entries: number;
  bytes: number;
}

export interface CreateIndexOptions {
  /** Called after each slice of the online build, with rows done so far and the total to do. */
  onProgress?: (progress: { indexed: number; total: number }) => void;
}

export interface IndexRecommendation {
  /** Ready to pass to createIndex. */
  definition: { name: string; fields: string[]; type: 'btree' };
  /** The query shapes it would serve, with their observed load. */
  fingerprints: string[];
  calls: number;
  totalTimeMs: number;
  rowsExamined: number;
  rowsReturned: number;
  /** Planner cost of those queries now, and with the index (summed over calls). */
  currentCost: number;
  estimatedCost: number;
  /** 1 - estimatedCost / currentCost: 0.8 means the planner expects 80% less work. */
  improvement: number;
  /** totalTimeMs × improvement: time the observed workload would have saved. */
  expectedTimeSavedMs: number;
  estimatedBytes: number;
}

export interface IndexOptimizationResult {
  /** User-defined indexes no executed query has used since they were created. */
  unused: { name: string; createdAt: Date; bytes: number }[];
  /** Indexes another index makes redundant. */
  duplicates: { name: string; duplicateOf: string; reason: string; bytes: number }[];
  reclaimableBytes: number;
}

export interface FieldAnalysis {
  field: string;
  /** Events the figures come from: all of them when an index counts exactly, else a sample. */
  sampledRows: number;
  exact: boolean;
  /** Share of events that have a scalar value for the field. */
  present: number;
  distinctValues: number;
  /** Values sorted (booleans, numbers, strings) in up to 10 buckets of about equal events. */
  histogram: { from: Scalar; to: Scalar; share: number }[];
}

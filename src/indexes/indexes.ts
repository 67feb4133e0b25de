import type { AutoIndexAction, AutoIndexSettings } from './auto-index.js';
import type { IndexDefinition } from './index-definition.js';
import type {
  CreateIndexOptions,
  FieldAnalysis,
  IndexAnalysis,
  IndexInfo,
  IndexOptimizationResult,
  IndexRecommendation,
  IndexSize,
  IndexUsage,
} from './index-types.js';

/**
 * User-defined indexes, as `store.indexes` offers them: the same calls whichever engine keeps them
 * (the embedded engine's IndexManager; a database's CREATE INDEX later).
 *
 * @example
 * await store.indexes.createIndex({ name: 'by_tenant', fields: ['tags.tenant'] });
 * const usage = await store.indexes.getIndexUsage();
 */
export interface Indexes {
  createIndex(definition: IndexDefinition, options?: CreateIndexOptions): Promise<IndexInfo>;
  dropIndex(name: string): Promise<void>;
  rebuildIndex(name: string, options?: CreateIndexOptions): Promise<IndexInfo>;
  listIndexes(): Promise<IndexInfo[]>;
  analyzeIndex(name: string): Promise<IndexAnalysis>;
  analyzeField(field: string): Promise<FieldAnalysis>;
  getIndexUsage(): Promise<IndexUsage[]>;
  getIndexSize(): Promise<{ totalBytes: number; indexes: IndexSize[] }>;
  recommendIndexes(): Promise<IndexRecommendation[]>;
  optimizeIndexes(): Promise<IndexOptimizationResult>;
  /** Lets the advisor create the indexes it recommends, within a memory budget; false turns it off. */
  setAutoIndex(settings: AutoIndexSettings | false): void;
  /** What auto mode did, newest last: indexes created, or recommendations it declined and why. */
  readonly autoActions: readonly AutoIndexAction[];
  /** Resolves when no index build or automatic step is running. */
  whenIdle(): Promise<void>;
}

import {
  resolveAutoIndex,
  type AutoIndexAction,
  type AutoIndexSettings,
} from '../../../indexes/auto-index.js';
import type { IndexDefinition } from '../../../indexes/index-definition.js';
import type { IndexRecommendation } from '../../../indexes/index-types.js';

// Auto mode (IndexManager.setAutoIndex): builds the advisor's recommendations in the background,
// within a memory budget, and says what it did.

const AUTO_ACTIONS_KEPT = 100;

/** What auto mode needs of the index manager. */
export interface AutoIndexHost {
  /** The advisor's recommendations, best first. */
  recommend(): IndexRecommendation[];
  /** Bytes the ready user-defined indexes take. */
  usedBytes(): number;
  now(): number;
  createIndex(definition: IndexDefinition): Promise<unknown>;
  /** Whether the manager is closed: auto mode starts nothing more. */
  closed(): boolean;
}

export class AutoIndexer {
  private settings: Required<AutoIndexSettings> | undefined;
  private building: Promise<void> | undefined;
  private queriesSinceCheck = 0;

  constructor(
    private readonly host: AutoIndexHost,
    /** What auto mode did, newest last (IndexManager.autoActions: the same array). */
    readonly actions: AutoIndexAction[] = [],
  ) {}

  /** Turns auto mode on with these settings (checked here), or off with false. */
  configure(settings: AutoIndexSettings | false): void {
    this.settings = settings === false ? undefined : resolveAutoIndex(settings);
  }

  /** Resolves once no auto-mode build is running. */
  async whenIdle(): Promise<void> {
    await this.building;
  }

  /**
   * Called after every executed query: every `checkEvery` of them, the advisor's best
   * recommendation (seen in at least `minCalls` queries) is built, if it fits the memory budget.
   */
  afterQuery(): void {
    const auto = this.settings;
    const { host } = this;
    if (auto === undefined || this.building !== undefined || host.closed()) return;
    if (++this.queriesSinceCheck < auto.checkEvery) return;
    this.queriesSinceCheck = 0;
    const best = host.recommend().find((candidate) => candidate.calls >= auto.minCalls);
    if (best === undefined) return;
    const used = host.usedBytes();
    const at = new Date(host.now());
    if (used + best.estimatedBytes > auto.memoryBudget) {
      // Say so once per recommendation, not every checkEvery queries.
      const last = this.actions[this.actions.length - 1];
      if (last?.action === 'skipped' && last.recommendation.definition.name === best.definition.name) return;
      this.record({
        at,
        action: 'skipped',
        recommendation: best,
        reason: `over the memory budget of ${auto.memoryBudget} bytes (indexes use ${used}, this one needs ~${best.estimatedBytes})`,
      });
      return;
    }
    this.building = host
      .createIndex(best.definition)
      .then(() => this.record({ at, action: 'created', recommendation: best }))
      .catch((error: Error) =>
        this.record({ at, action: 'failed', recommendation: best, reason: error.message }),
      )
      .finally(() => (this.building = undefined));
  }

  /** Keeps the last AUTO_ACTIONS_KEPT actions: a long-running process must not grow this forever. */
  private record(action: AutoIndexAction): void {
    this.actions.push(action);
    if (this.actions.length > AUTO_ACTIONS_KEPT) this.actions.shift();
  }
}

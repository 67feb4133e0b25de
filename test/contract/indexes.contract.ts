/**
 * User-defined indexes (store.indexes), for engines with the `userIndexes` capability: managing
 * them, unique ones, how queries use them, and what is refused. A durable engine also closes and
 * reopens where that matters.
 */
import { indexManagementSuite } from './index-management.contract.js';
import { indexPlannerSuite } from './index-planner.contract.js';
import { indexValidationSuite } from './index-validation.contract.js';
import type { StoreFactory } from './factory.js';
import { requires } from './requires.js';
import { uniqueIndexesSuite } from './unique-indexes.contract.js';

export function indexesSuite(factory: StoreFactory): void {
  requires(factory, 'userIndexes').describe('store.indexes', () => {
    indexManagementSuite(factory);
    uniqueIndexesSuite(factory);
    indexPlannerSuite(factory);
    indexValidationSuite(factory);
  });
}

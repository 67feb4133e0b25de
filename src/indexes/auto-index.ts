import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import type { IndexRecommendation } from './index-types.js';

export interface AutoIndexSettings {
  /** Bytes all user-defined indexes together may hold; auto mode never builds past it. Default 64 MiB. */
  memoryBudget?: number;
  /** A recommendation must come from at least this many executed queries. Default 20. */
  minCalls?: number;
  /** Executed queries between two looks at the recommendations. Default 100. */
  checkEvery?: number;
}

export interface AutoIndexAction {
  at: Date;
  action: 'created' | 'skipped' | 'failed';
  recommendation: IndexRecommendation;
  reason?: string;
}

const DEFAULTS: Required<AutoIndexSettings> = {
  memoryBudget: 64 * 1024 * 1024,
  minCalls: 20,
  checkEvery: 100,
};

export function resolveAutoIndex(settings: unknown): Required<AutoIndexSettings> {
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
    throw new ValidationError(
      'autoIndex',
      `must be an object or false, got ${describe(settings)}`,
      'INVALID_OPTION',
    );
  }
  const out = { ...DEFAULTS };
  for (const [key, value] of Object.entries(settings)) {
    if (!(key in DEFAULTS)) {
      throw new ValidationError(
        `autoIndex.${key}`,
        'unknown option; expected memoryBudget, minCalls, checkEvery',
        'INVALID_OPTION',
      );
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new ValidationError(
        `autoIndex.${key}`,
        `must be a positive integer, got ${describe(value)}`,
        'INVALID_OPTION',
      );
    }
    out[key as keyof AutoIndexSettings] = value;
  }
  return out;
}

import { ValidationError } from '../../errors.js';
import type { PipelineStage } from '../../query/analytics-ast.js';
import { validateFilter } from '../../query/validate-query.js';
import { describe } from '../../support/describe.js';
import { requireFunction } from '../../support/require-function.js';
import { validateAggregateMap } from './aggregate-map.js';
import { validateTimeBucketSpec } from './bucket-rows.js';
import { validateJoinOptions } from './join-rows.js';
import { validatePatternSpec } from './pattern-stage.js';
import { validateProjection } from './project-rows.js';
import { validateRowFilter } from './row-filter.js';
import { validateLimit, validateOrderTerms } from './sort-rows.js';
import { validateWindowSpec } from './time-windows.js';

/** The names a pipeline stage may have: each stage object has exactly one of them. */
export const STAGE_NAMES = [
  'match',
  'timeBucket',
  'window',
  'group',
  'having',
  'pattern',
  'join',
  'project',
  'sort',
  'limit',
  'stage',
] as const;

export type StageName = (typeof STAGE_NAMES)[number];

/** The one key of a (validated) stage. */
export function stageName(stage: PipelineStage): StageName {
  return Object.keys(stage)[0] as StageName;
}

function validateGroup(group: unknown, path: string, added: readonly string[]): void {
  if (group === null || typeof group !== 'object') {
    throw new ValidationError(path, `must be { by?, aggregates }, got ${describe(group)}`, 'INVALID_OPTION');
  }
  const { by, aggregates } = group as { by?: unknown; aggregates?: unknown };
  if (
    by !== undefined &&
    (!Array.isArray(by) ||
      by.some((f) => typeof f !== 'string' || f === '') ||
      new Set(by).size !== by.length)
  ) {
    throw new ValidationError(
      `${path}.by`,
      `must be an array of distinct field names, got ${describe(by)}`,
      'UNKNOWN_FIELD',
    );
  }
  validateAggregateMap(aggregates, `${path}.aggregates`, [...added, ...((by as string[] | undefined) ?? [])]);
}

function validateJoin(join: unknown, path: string): void {
  validateJoinOptions(join, path);
  const right: unknown = (join as { right?: unknown }).right;
  // A whole query is the store's to check (validateQuery); a filter is read from live events.
  if (right !== null && typeof right === 'object' && (right as { kind?: unknown }).kind === 'query') return;
  validateFilter(right, `${path}.right`);
}

/** Checks one stage's content; `first` tells a first `match`, which the store serves. */
function validateStage(
  name: StageName,
  content: unknown,
  path: string,
  first: boolean,
  added: readonly string[],
): void {
  switch (name) {
    case 'match':
      // The first match goes to the store (its fields are event fields); a later one filters rows.
      if (first) validateFilter(content, path);
      else validateRowFilter(content, path);
      return;
    case 'having':
      return validateRowFilter(content, path);
    case 'timeBucket':
      return validateTimeBucketSpec(content, path);
    case 'window':
      return validateWindowSpec(content, path);
    case 'group':
      return validateGroup(content, path, added);
    case 'pattern':
      return validatePatternSpec(content, path);
    case 'join':
      return validateJoin(content, path);
    case 'project':
      return validateProjection(content, path);
    case 'sort':
      return validateOrderTerms(content, path);
    case 'limit':
      return validateLimit(content, path);
    case 'stage':
      requireFunction(content, path);
      return;
  }
}

/**
 * Checks a whole pipeline before anything runs: an array of stage objects, each with exactly one
 * known key, each stage's content as its own check says. Errors name the place, e.g.
 * `stages[2].group.aggregates.p95`.
 */
export function validatePipeline(stages: unknown): asserts stages is readonly PipelineStage[] {
  if (!Array.isArray(stages)) {
    throw new ValidationError(
      'stages',
      `must be an array of stages, got ${describe(stages)}`,
      'INVALID_OPTION',
    );
  }
  // The keys a timeBucket or window stage adds, which the next group stage groups by.
  let added: readonly string[] = [];
  stages.forEach((stage: unknown, i) => {
    const path = `stages[${i}]`;
    const keys =
      stage !== null && typeof stage === 'object' && !Array.isArray(stage) ? Object.keys(stage) : [];
    if (keys.length !== 1 || !(STAGE_NAMES as readonly string[]).includes(keys[0]!)) {
      throw new ValidationError(
        path,
        `must be an object with exactly one of ${STAGE_NAMES.join(', ')}; got ${describe(stage)}`,
        'INVALID_OPTION',
      );
    }
    const name = keys[0] as StageName;
    validateStage(name, (stage as Record<string, unknown>)[name], `${path}.${name}`, i === 0, added);
    if (name === 'timeBucket') added = ['bucket'];
    else if (name === 'window') added = ['windowStart', 'windowEnd'];
    else if (name === 'group') added = [];
  });
}

import { ValidationError } from '../../errors.js';
import type { PatternQuerySpec, PipelineRow } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { matchPattern, type PatternRow } from '../pattern-match.js';
import type { SequencedEvent } from '../partition-events.js';
import { keyValue } from './group-key.js';
import { readRowField } from './read-row-field.js';
import { compileRowFilter, validateRowFilter } from './row-filter.js';
import { durationMs } from './stage-duration.js';

const RESERVED = new Set(['partition', 'start', 'end', 'durationMs']);

/** Checks a pattern spec as JSON: partitionBy a field name, steps with name and where, within a duration. */
export function validatePatternSpec(spec: unknown, path: string): asserts spec is PatternQuerySpec {
  if (spec === null || typeof spec !== 'object') {
    throw new ValidationError(
      path,
      `must be { partitionBy, steps, within }, got ${describe(spec)}`,
      'INVALID_OPTION',
    );
  }
  const s = spec as Partial<Record<keyof PatternQuerySpec, unknown>>;
  if (typeof s.partitionBy !== 'string' || s.partitionBy === '') {
    throw new ValidationError(
      `${path}.partitionBy`,
      `must be a field name, got ${describe(s.partitionBy)}`,
      'UNKNOWN_FIELD',
    );
  }
  if (!Array.isArray(s.steps) || s.steps.length === 0) {
    throw new ValidationError(
      `${path}.steps`,
      `must be a non-empty array of { name, where }, got ${describe(s.steps)}`,
      'INVALID_OPTION',
    );
  }
  const count = s.steps.length;
  const names = new Set<unknown>();
  s.steps.forEach((step: { name?: unknown; where?: unknown; absent?: unknown } | null, i) => {
    const name = step?.name;
    if (typeof name !== 'string' || name === '' || RESERVED.has(name) || names.has(name)) {
      throw new ValidationError(
        `${path}.steps[${i}].name`,
        `must be a non-empty string, unique, and not partition, start, end or durationMs; got ${describe(name)}`,
        'INVALID_OPTION',
      );
    }
    names.add(name);
    validateRowFilter(step?.where, `${path}.steps[${i}].where`);
    if (step?.absent !== undefined && (step.absent !== true || i === 0 || i !== count - 1)) {
      throw new ValidationError(
        `${path}.steps[${i}].absent`,
        `must be true, on the last step (not the first) only, got ${describe(step.absent)}`,
        'INVALID_OPTION',
      );
    }
  });
  durationMs(s.within, `${path}.within`);
  if (s.contiguity !== undefined && s.contiguity !== 'relaxed' && s.contiguity !== 'strict') {
    throw new ValidationError(
      `${path}.contiguity`,
      `must be 'relaxed' or 'strict', got ${describe(s.contiguity)}`,
      'INVALID_OPTION',
    );
  }
}

/**
 * A pattern over rows (events): each step's `where` compiled with the row filter, the partition read
 * with readRowField (missing: null, one partition), `within` a duration; matchPattern's semantics
 * (docs/analytics.md, Patterns). `now` (epoch ms) closes the windows of `absent` steps. Step names,
 * `absent` and `contiguity` are checked by matchPattern.
 */
export function patternStage(rows: readonly object[], spec: PatternQuerySpec, now: number): PatternRow[] {
  validatePatternSpec(spec, 'pattern');
  const steps = spec.steps.map((step) => ({
    name: step.name,
    test: compileRowFilter(step.where),
    ...(step.absent === undefined ? {} : { absent: step.absent }),
  }));
  return matchPattern(rows as unknown as readonly (SequencedEvent & PipelineRow)[], {
    partitionBy: (row) => keyValue(readRowField(row, spec.partitionBy)),
    steps,
    withinMs: durationMs(spec.within, 'pattern.within'),
    ...(spec.contiguity === undefined ? {} : { contiguity: spec.contiguity }),
    now,
  });
}

import { ValidationError } from '../../errors.js';
import type { Expression, PipelineRow } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { readRowField } from './read-row-field.js';

/** Deepest nesting of arithmetic accepted in a projection (the evaluator recurses). */
export const MAX_EXPRESSION_DEPTH = 100;

const OPERATORS = ['add', 'sub', 'mul', 'div'] as const;
type Operator = (typeof OPERATORS)[number];

const APPLY: Record<Operator, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  // Division by zero is null (as in SQL, where it is an error or NULL), never Infinity.
  div: (a, b) => (b === 0 ? NaN : a / b),
};

const EXPECTED = 'expected a field name, a finite number, { literal }, or { add | sub | mul | div: [a, b] }';

/** Checks an expression (plain JSON from a pipeline): see projectRows for the forms. */
export function validateExpression(
  expression: unknown,
  path: string,
  depth = 0,
): asserts expression is Expression {
  if (depth > MAX_EXPRESSION_DEPTH) {
    throw new ValidationError(
      path,
      `nests arithmetic deeper than ${MAX_EXPRESSION_DEPTH} levels`,
      'INVALID_OPTION',
    );
  }
  if (typeof expression === 'string' && expression !== '') return;
  if (typeof expression === 'number' && Number.isFinite(expression)) return;
  if (expression !== null && typeof expression === 'object' && !Array.isArray(expression)) {
    const keys = Object.keys(expression);
    const [key] = keys;
    if (keys.length === 1 && key === 'literal') return;
    if (keys.length === 1 && (OPERATORS as readonly string[]).includes(key!)) {
      const operands: unknown = (expression as Record<string, unknown>)[key!];
      if (!Array.isArray(operands) || operands.length !== 2) {
        throw new ValidationError(
          `${path}.${key}`,
          `must be an array of two expressions, got ${describe(operands)}`,
          'INVALID_OPTION',
        );
      }
      operands.forEach((operand, i) => validateExpression(operand, `${path}.${key}[${i}]`, depth + 1));
      return;
    }
  }
  throw new ValidationError(path, `${EXPECTED}, got ${describe(expression)}`, 'INVALID_OPTION');
}

/**
 * The value of an expression for a row: a string reads the field (readRowField; missing is null),
 * a number is itself, `{ literal: v }` is v, arithmetic is null unless both operands are finite
 * numbers and the result is finite (so division by zero is null).
 */
export function evaluateExpression(expression: Expression, row: object): unknown {
  if (typeof expression === 'string') return readRowField(row, expression) ?? null;
  if (typeof expression === 'number') return expression;
  if ('literal' in expression) return expression.literal;
  const key = OPERATORS.find((operator) => operator in expression) as Operator;
  const [a, b] = (expression as Record<Operator, readonly [Expression, Expression]>)[key];
  const [x, y] = [evaluateExpression(a, row), evaluateExpression(b, row)];
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y))
    return null;
  const result = APPLY[key](x, y);
  return Number.isFinite(result) ? result : null;
}

/** Checks a projection: an object of output names to expressions. */
export function validateProjection(
  projection: unknown,
  path: string,
): asserts projection is Record<string, Expression> {
  if (
    projection === null ||
    typeof projection !== 'object' ||
    Array.isArray(projection) ||
    Object.keys(projection).length === 0
  ) {
    throw new ValidationError(
      path,
      `must be an object of output names to expressions, got ${describe(projection)}`,
      'INVALID_OPTION',
    );
  }
  for (const [name, expression] of Object.entries(projection)) {
    if (name === '') throw new ValidationError(path, 'an output name must be non-empty', 'INVALID_OPTION');
    validateExpression(expression, `${path}.${name}`);
  }
}

/** Each row as a new record of exactly the projection's names, each the value of its expression. */
export function projectRows(
  rows: readonly object[],
  projection: Readonly<Record<string, Expression>>,
): PipelineRow[] {
  validateProjection(projection, 'project');
  const entries = Object.entries(projection);
  return rows.map((row) => {
    const out: PipelineRow = {};
    for (const [name, expression] of entries) out[name] = evaluateExpression(expression, row);
    return out;
  });
}

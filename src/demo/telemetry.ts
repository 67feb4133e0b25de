import type { NewEvent, Tags } from '../index.js';
import { Random } from './random.js';

/** The event types of an AI coding workflow, as the Tamma orchestrator emits them. */
export const EVENT_TYPES = [
  'WORKFLOW.STARTED',
  'ISSUE.ANALYZED',
  'PLAN.CREATED',
  'CODE.GENERATION.STARTED',
  'CODE.GENERATED.SUCCESS',
  'CODE.GENERATED.FAILURE',
  'TESTS.STARTED',
  'TESTS.PASSED',
  'TESTS.FAILED',
  'REVIEW.REQUESTED',
  'REVIEW.APPROVED',
  'REVIEW.CHANGES_REQUESTED',
  'PR.MERGED',
  'WORKFLOW.COMPLETED',
  'WORKFLOW.FAILED',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Index of each type in EVENT_TYPES: the generator stores types as small integers. */
const T = Object.fromEntries(EVENT_TYPES.map((type, i) => [type, i])) as Record<EventType, number>;

const PROVIDERS: readonly (readonly [provider: string, models: readonly string[], weight: number])[] = [
  ['anthropic', ['claude-sonnet-4', 'claude-haiku-4'], 5],
  ['openai', ['gpt-4.1', 'gpt-4.1-mini'], 3],
  ['google', ['gemini-2.5-pro'], 1.5],
  ['local', ['llama-3.3-70b'], 0.5],
];

const SCHEDULED_KINDS = ['nightly-audit', 'dependency-update', 'flaky-test-triage'] as const;
const REPOS = ['tamma/orchestrator', 'tamma/events', 'tamma/web', 'tamma/cli', 'tamma/infra'] as const;

export interface Workflow {
  aggregateId: string;
  /** Only workflows that work on an issue have one; scheduled ones do not. */
  issueId: number | undefined;
  provider: string;
  model: string;
  repo: string;
}

/**
 * The generated sample, in append (arrival) order: index i is the event that gets sequence i + 1 in
 * an empty store. Per-event fields live in typed arrays, not objects, so a million-event sample stays
 * small; events are materialised (payloads and all) a batch at a time, deterministically.
 */
export interface Telemetry {
  seed: number;
  count: number;
  workflows: Workflow[];
  workflowOf: Int32Array;
  typeOf: Uint8Array;
  attemptOf: Uint8Array;
  timestampOf: Float64Array;
  /** Events whose timestamp is earlier than one appended before them. */
  outOfOrder: number;
  firstTimestamp: number;
  lastTimestamp: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The sample's 30 days end here; fixed, so every run generates the same data. */
const END = Date.UTC(2025, 5, 30);
const SPAN = 30 * DAY;
/** Share of events that reach the store late (retries, buffering agents), by up to six hours. */
const LATE_SHARE = 0.03;

interface Draft {
  workflow: number[];
  type: number[];
  attempt: number[];
  timestamp: number[];
  arrival: number[];
}

function newWorkflow(rnd: Random, index: number): Workflow {
  const [provider, models] = rnd.weighted(PROVIDERS.map(([p, m, w]) => [[p, m] as const, w] as const));
  const model = rnd.pick(models);
  const repo = rnd.pick(REPOS);
  // Most workflows work on an issue; about a third are scheduled maintenance runs.
  if (rnd.chance(0.65)) {
    const issueId = 1000 + index;
    return { aggregateId: `issue-${issueId}`, issueId, provider, model, repo };
  }
  return {
    aggregateId: `workflow-${rnd.pick(SCHEDULED_KINDS)}-${index}`,
    issueId: undefined,
    provider,
    model,
    repo,
  };
}

/** Emits one workflow's events: analysis, up to three generate/test/review attempts, and an outcome. */
function emitWorkflow(rnd: Random, wf: number, workflow: Workflow, draft: Draft, budget: number): void {
  let time = END - SPAN + rnd.next() * (SPAN - DAY);
  let emitted = 0;
  const emit = (type: number, attempt: number, after: number): boolean => {
    if (emitted >= budget) return false;
    time += Math.max(1, Math.round(after));
    const timestamp = Math.round(time);
    draft.workflow.push(wf);
    draft.type.push(type);
    draft.attempt.push(attempt);
    draft.timestamp.push(timestamp);
    draft.arrival.push(rnd.chance(LATE_SHARE) ? timestamp + rnd.between(MINUTE, 6 * HOUR) : timestamp);
    emitted++;
    return true;
  };
  const failureOdds = workflow.provider === 'local' ? 0.3 : workflow.model.endsWith('mini') ? 0.18 : 0.1;

  emit(T['WORKFLOW.STARTED'], 0, 0);
  if (workflow.issueId === undefined) {
    // Scheduled runs are short: plan, one generation, done.
    emit(T['PLAN.CREATED'], 0, rnd.logNormal(30 * SECOND));
    emit(T['CODE.GENERATION.STARTED'], 1, rnd.logNormal(3 * SECOND));
    const ok = !rnd.chance(failureOdds);
    emit(ok ? T['CODE.GENERATED.SUCCESS'] : T['CODE.GENERATED.FAILURE'], 1, rnd.logNormal(60 * SECOND));
    emit(ok ? T['WORKFLOW.COMPLETED'] : T['WORKFLOW.FAILED'], 1, rnd.logNormal(2 * SECOND));
    return;
  }
  emit(T['ISSUE.ANALYZED'], 0, rnd.logNormal(20 * SECOND));
  emit(T['PLAN.CREATED'], 0, rnd.logNormal(45 * SECOND));
  for (let attempt = 1; attempt <= 3; attempt++) {
    emit(T['CODE.GENERATION.STARTED'], attempt, rnd.logNormal(5 * SECOND));
    if (rnd.chance(failureOdds)) {
      emit(T['CODE.GENERATED.FAILURE'], attempt, rnd.logNormal(90 * SECOND));
      continue;
    }
    emit(T['CODE.GENERATED.SUCCESS'], attempt, rnd.logNormal(90 * SECOND));
    emit(T['TESTS.STARTED'], attempt, rnd.logNormal(10 * SECOND));
    if (rnd.chance(0.2)) {
      emit(T['TESTS.FAILED'], attempt, rnd.logNormal(4 * MINUTE));
      continue;
    }
    emit(T['TESTS.PASSED'], attempt, rnd.logNormal(4 * MINUTE));
    emit(T['REVIEW.REQUESTED'], attempt, rnd.logNormal(30 * SECOND));
    if (rnd.chance(0.2)) {
      emit(T['REVIEW.CHANGES_REQUESTED'], attempt, rnd.logNormal(2 * HOUR, 1));
      continue;
    }
    emit(T['REVIEW.APPROVED'], attempt, rnd.logNormal(2 * HOUR, 1));
    emit(T['PR.MERGED'], attempt, rnd.logNormal(10 * MINUTE));
    emit(T['WORKFLOW.COMPLETED'], attempt, rnd.logNormal(5 * SECOND));
    return;
  }
  emit(T['WORKFLOW.FAILED'], 3, rnd.logNormal(5 * SECOND));
}

/** Generates `count` events of workflow telemetry over 30 days, a few percent arriving late. */
export function generateTelemetry(count: number, seed = 20250630): Telemetry {
  const rnd = new Random(seed);
  const draft: Draft = { workflow: [], type: [], attempt: [], timestamp: [], arrival: [] };
  const workflows: Workflow[] = [];
  while (draft.type.length < count) {
    const workflow = newWorkflow(rnd, workflows.length);
    emitWorkflow(rnd, workflows.length, workflow, draft, count - draft.type.length);
    workflows.push(workflow);
  }
  // The store receives events when they arrive, not when they happened.
  const order = Array.from({ length: count }, (_, i) => i);
  order.sort((a, b) => (draft.arrival[a] as number) - (draft.arrival[b] as number) || a - b);

  const telemetry: Telemetry = {
    seed,
    count,
    workflows,
    workflowOf: new Int32Array(count),
    typeOf: new Uint8Array(count),
    attemptOf: new Uint8Array(count),
    timestampOf: new Float64Array(count),
    outOfOrder: 0,
    firstTimestamp: Number.POSITIVE_INFINITY,
    lastTimestamp: Number.NEGATIVE_INFINITY,
  };
  let latest = Number.NEGATIVE_INFINITY;
  order.forEach((source, i) => {
    const timestamp = draft.timestamp[source] as number;
    telemetry.workflowOf[i] = draft.workflow[source] as number;
    telemetry.typeOf[i] = draft.type[source] as number;
    telemetry.attemptOf[i] = draft.attempt[source] as number;
    telemetry.timestampOf[i] = timestamp;
    if (timestamp < latest) telemetry.outOfOrder++;
    latest = Math.max(latest, timestamp);
    telemetry.firstTimestamp = Math.min(telemetry.firstTimestamp, timestamp);
    telemetry.lastTimestamp = Math.max(telemetry.lastTimestamp, timestamp);
  });
  return telemetry;
}

const TOKEN_PRICE_PER_MILLION: Record<string, number> = {
  'claude-sonnet-4': 6,
  'claude-haiku-4': 1.5,
  'gpt-4.1': 5,
  'gpt-4.1-mini': 1,
  'gemini-2.5-pro': 4,
  'llama-3.3-70b': 0,
};

const FAILURE_REASONS = ['context_length_exceeded', 'timeout', 'rate_limited', 'invalid_patch'] as const;

function usage(
  rnd: Random,
  model: string,
  inputMedian: number,
  outputMedian: number,
): Record<string, number> {
  const input = Math.round(rnd.logNormal(inputMedian));
  const output = Math.round(rnd.logNormal(outputMedian));
  const cost = ((input + output) / 1e6) * (TOKEN_PRICE_PER_MILLION[model] ?? 0);
  return { inputTokens: input, outputTokens: output, costUsd: Math.round(cost * 1e4) / 1e4 };
}

function payloadFor(
  rnd: Random,
  type: EventType,
  attempt: number,
  workflow: Workflow,
): Record<string, unknown> {
  const durationMs = (median: number): number => Math.round(rnd.logNormal(median));
  switch (type) {
    case 'WORKFLOW.STARTED':
      return {
        repo: workflow.repo,
        trigger: workflow.issueId === undefined ? 'schedule' : rnd.pick(['label', 'comment', 'api']),
      };
    case 'ISSUE.ANALYZED':
      return {
        durationMs: durationMs(20_000),
        complexity: rnd.pick(['low', 'medium', 'high']),
        ...usage(rnd, workflow.model, 6000, 800),
      };
    case 'PLAN.CREATED':
      return {
        durationMs: durationMs(40_000),
        steps: rnd.between(2, 9),
        ...usage(rnd, workflow.model, 9000, 1500),
      };
    case 'CODE.GENERATION.STARTED':
      return { attempt };
    case 'CODE.GENERATED.SUCCESS':
      return {
        attempt,
        durationMs: durationMs(90_000),
        filesChanged: rnd.between(1, 14),
        linesAdded: Math.round(rnd.logNormal(120, 1)),
        linesRemoved: Math.round(rnd.logNormal(40, 1)),
        ...usage(rnd, workflow.model, 24_000, 4000),
      };
    case 'CODE.GENERATED.FAILURE':
      return {
        attempt,
        durationMs: durationMs(60_000),
        reason: rnd.pick(FAILURE_REASONS),
        ...usage(rnd, workflow.model, 20_000, 500),
      };
    case 'TESTS.STARTED':
      return { attempt, suite: rnd.pick(['unit', 'unit+integration', 'e2e']) };
    case 'TESTS.PASSED':
      return { attempt, durationMs: durationMs(240_000), passed: rnd.between(80, 2400) };
    case 'TESTS.FAILED':
      return {
        attempt,
        durationMs: durationMs(200_000),
        passed: rnd.between(80, 2400),
        failed: rnd.between(1, 12),
      };
    case 'REVIEW.REQUESTED':
      return { attempt, reviewers: rnd.between(1, 3) };
    case 'REVIEW.APPROVED':
      return { attempt, reviewer: `dev-${rnd.between(1, 40)}` };
    case 'REVIEW.CHANGES_REQUESTED':
      return { attempt, reviewer: `dev-${rnd.between(1, 40)}`, comments: rnd.between(1, 15) };
    case 'PR.MERGED':
      return { attempt, prNumber: rnd.between(100, 99_999) };
    case 'WORKFLOW.COMPLETED':
      return { attempts: attempt, totalDurationMs: durationMs(3 * 3_600_000) };
    case 'WORKFLOW.FAILED':
      return { attempts: attempt, reason: rnd.pick(['max_attempts', 'tests_failing', 'generation_failed']) };
  }
}

/** Tags of a workflow's events; shared by the generator and the oracle that checks tag queries. */
export function tagsOf(workflow: Workflow): Tags {
  return workflow.issueId === undefined
    ? { provider: workflow.provider, model: workflow.model }
    : { issueId: workflow.issueId, provider: workflow.provider, model: workflow.model };
}

/**
 * Builds the NewEvent at append position `i`. Payload randomness is seeded by the position, so the
 * same sample comes out whichever batch size or order it is materialised in.
 */
export function materialize(telemetry: Telemetry, i: number): NewEvent {
  const workflow = telemetry.workflows[telemetry.workflowOf[i] as number] as Workflow;
  const type = EVENT_TYPES[telemetry.typeOf[i] as number] as EventType;
  const rnd = new Random(telemetry.seed ^ Math.imul(i + 1, 0x9e3779b1));
  return {
    aggregateId: workflow.aggregateId,
    type,
    timestamp: telemetry.timestampOf[i] as number,
    tags: tagsOf(workflow),
    payload: payloadFor(rnd, type, telemetry.attemptOf[i] as number, workflow),
    metadata: { correlationId: `run-${telemetry.workflowOf[i]}`, source: 'tamma-orchestrator' },
  };
}

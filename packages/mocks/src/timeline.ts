/**
 * A job's queue life as a pure function of the clock and three instants: when it was submitted, when it
 * starts running and when it ends. IN_QUEUE until it starts (queue_position falling to 0 over
 * `queueSteps` steps), IN_PROGRESS for `progressSteps` steps (one log line per step), then COMPLETED.
 * Nothing is stored per step, so there is nothing to tick. Without a concurrency limit a job starts
 * `queueSteps` steps after submit; with one, the job store moves the start later (see job-store.ts).
 */
import { KontextMockError } from "./errors.js";

export interface Timeline {
  /** Steps spent IN_QUEUE; queue_position starts at `queueSteps - 1` and reaches 0. */
  queueSteps?: number;
  /** Steps spent IN_PROGRESS; one log line is added per step. */
  progressSteps?: number;
  /** Length of one step in milliseconds. */
  stepMs?: number;
}

export type ResolvedTimeline = Required<Timeline>;

export const DEFAULT_TIMELINE: ResolvedTimeline = { queueSteps: 2, progressSteps: 3, stepMs: 200 };

export function resolveTimeline(timeline: Timeline | undefined): ResolvedTimeline {
  const pick = (name: keyof Timeline, fallback: number) => {
    const value = timeline?.[name];
    if (value === undefined) return fallback;
    if (!Number.isFinite(value)) throw new KontextMockError(`timeline.${name}`, `must be a finite number (got ${value})`);
    return Math.max(0, Math.floor(value));
  };
  return {
    queueSteps: pick("queueSteps", DEFAULT_TIMELINE.queueSteps),
    progressSteps: pick("progressSteps", DEFAULT_TIMELINE.progressSteps),
    stepMs: pick("stepMs", DEFAULT_TIMELINE.stepMs),
  };
}

/** How long a job waits before it may start, and how long it runs, in milliseconds. */
export const queueMs = (timeline: ResolvedTimeline) => timeline.queueSteps * timeline.stepMs;
export const runMs = (timeline: ResolvedTimeline) => timeline.progressSteps * timeline.stepMs;

/** The instants that fix a job's phase at any time. `startAt` is +Infinity for a job that never starts. */
export interface JobInstants {
  submittedAt: number;
  startAt: number;
  endAt: number;
}

export type Phase =
  | { state: "IN_QUEUE"; queuePosition: number }
  | { state: "IN_PROGRESS"; logCount: number }
  | { state: "COMPLETED" };

/** Where a job stands at `now`; the queue position here is the job's own countdown (no jobs ahead). */
export function phaseAt(timeline: ResolvedTimeline, instants: JobInstants, now: number): Phase {
  if (now >= instants.endAt) return { state: "COMPLETED" };
  if (now >= instants.startAt) return { state: "IN_PROGRESS", logCount: stepsSince(timeline, instants.startAt, now) + 1 };
  const waited = stepsSince(timeline, instants.submittedAt, now);
  return { state: "IN_QUEUE", queuePosition: Math.max(0, timeline.queueSteps - 1 - waited) };
}

/** Whole steps from `from` to `now` (0 for zero-length steps). */
function stepsSince(timeline: ResolvedTimeline, from: number, now: number): number {
  return timeline.stepMs === 0 ? 0 : Math.floor(Math.max(0, now - from) / timeline.stepMs);
}

/** The next instant after `now` at which the job's own phase or log count changes; undefined once completed. */
export function nextChange(timeline: ResolvedTimeline, instants: JobInstants, now: number): number | undefined {
  if (now >= instants.endAt) return undefined;
  const from = now >= instants.startAt ? instants.startAt : instants.submittedAt;
  const nextStep =
    timeline.stepMs === 0 ? Number.POSITIVE_INFINITY : from + (stepsSince(timeline, from, now) + 1) * timeline.stepMs;
  const next = Math.min(nextStep, now < instants.startAt ? instants.startAt : Number.POSITIVE_INFINITY, instants.endAt);
  return Number.isFinite(next) ? next : undefined;
}

/** How many log lines a job ended with (one per step it ran). */
export function finalLogCount(timeline: ResolvedTimeline, instants: JobInstants): number {
  if (!(instants.endAt > instants.startAt)) return 0;
  return Math.min(timeline.progressSteps, Math.ceil((instants.endAt - instants.startAt) / (timeline.stepMs || 1)));
}

/** When log line `index` (0-based) was written. */
export const logTime = (timeline: ResolvedTimeline, startAt: number, index: number) => startAt + index * timeline.stepMs;

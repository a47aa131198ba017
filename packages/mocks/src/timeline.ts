/**
 * A job's queue life as a pure function of elapsed time: IN_QUEUE for `queueSteps` steps
 * (queue_position falling to 0), IN_PROGRESS for `progressSteps` steps (one log line per
 * step), then COMPLETED. Nothing is stored per step, so there is nothing to tick.
 */

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

export function resolveTimeline(t: Timeline | undefined): ResolvedTimeline {
  const pick = (v: number | undefined, d: number, min: number) =>
    v === undefined || !Number.isFinite(v) ? d : Math.max(min, Math.floor(v));
  return {
    queueSteps: pick(t?.queueSteps, DEFAULT_TIMELINE.queueSteps, 0),
    progressSteps: pick(t?.progressSteps, DEFAULT_TIMELINE.progressSteps, 0),
    stepMs: pick(t?.stepMs, DEFAULT_TIMELINE.stepMs, 0),
  };
}

export type Phase =
  | { state: "IN_QUEUE"; queuePosition: number }
  | { state: "IN_PROGRESS"; logCount: number }
  | { state: "COMPLETED" };

/** Where a job stands `elapsed` ms after submit. */
export function phaseAt(t: ResolvedTimeline, elapsed: number): Phase {
  const step = t.stepMs === 0 ? Number.POSITIVE_INFINITY : Math.floor(Math.max(0, elapsed) / t.stepMs);
  if (step < t.queueSteps) return { state: "IN_QUEUE", queuePosition: t.queueSteps - 1 - step };
  if (step < t.queueSteps + t.progressSteps) return { state: "IN_PROGRESS", logCount: step - t.queueSteps + 1 };
  return { state: "COMPLETED" };
}

/** Milliseconds after submit at which the job completes. */
export const completesAfter = (t: ResolvedTimeline) => (t.queueSteps + t.progressSteps) * t.stepMs;

/** Milliseconds after submit of the next step edge, or undefined once completed. */
export function nextEdge(t: ResolvedTimeline, elapsed: number): number | undefined {
  const end = completesAfter(t);
  if (elapsed >= end || t.stepMs === 0) return undefined;
  return (Math.floor(Math.max(0, elapsed) / t.stepMs) + 1) * t.stepMs;
}

/** When log line `index` (0-based) was written, ms after submit. */
export const logTime = (t: ResolvedTimeline, index: number) => (t.queueSteps + index) * t.stepMs;

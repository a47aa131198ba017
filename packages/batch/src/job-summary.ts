/**
 * How a finished job is written down, the same in both modes: the summary a completed job leaves
 * (the journal's `completed` record in the runner, the BullMQ job's return value on Redis), the
 * `results.jsonl` line made from it or from a failure, and the tally of failures a batch summary
 * reports. One place, so the single-process runner and the BullMQ workers cannot drift apart.
 */
import type { KontextOutput } from "@kontext-sdk/schema";
import type { FailureReason, JobError } from "./errors.js";
import { type InputProblem, problemError } from "./input.js";
import type { JobSummary } from "./journal.js";
import type { ResultLine } from "./output.js";

/** What is known of a job once its images are saved: the inputs of its summary. */
export interface FinishedJob {
  requestId: string;
  /** The model's output, read for the seed, the inference time and the nsfw flags. */
  output: KontextOutput;
  /** The saved images, relative to the output folder. */
  files: string[];
  /** When the submit answered, when this process (or an earlier one) recorded it. */
  submittedAt?: number | undefined;
  /** Requests the meter counted for the job, when there is a meter. */
  requests?: number | undefined;
  /** True when the outcome came from a webhook delivery. */
  webhook?: boolean;
  /** Defaults to now: the summary is made the moment the job is done. */
  completedAt?: number;
}

/** The summary of a completed job. Optional fields are left out, not set to undefined, so the JSON stays lean. */
export function summarizeJob(finished: FinishedJob): JobSummary {
  const { output } = finished;
  return {
    requestId: finished.requestId,
    ...(typeof output.seed === "number" ? { seed: output.seed } : {}),
    files: finished.files,
    timings: jobTimings(finished),
    ...(finished.requests !== undefined ? { requests: finished.requests } : {}),
    ...(finished.webhook ? { webhook: true } : {}),
    ...(Array.isArray(output.has_nsfw_concepts) ? { nsfw: output.has_nsfw_concepts } : {}),
  };
}

/** fal reports inference in seconds; the summary keeps whole milliseconds like its other timings. */
function jobTimings(finished: FinishedJob): JobSummary["timings"] {
  const inference = finished.output.timings?.inference;
  return {
    ...(finished.submittedAt !== undefined ? { submittedAt: finished.submittedAt } : {}),
    completedAt: finished.completedAt ?? Date.now(),
    ...(typeof inference === "number" ? { inferenceMs: Math.round(inference * 1000) } : {}),
  };
}

/** The job a result line is about: its endpoint is absent only where the line is built before it is known. */
interface LineJob {
  id: string;
  endpoint?: string;
}

/**
 * The `results.jsonl` line of a completed job. The summary's webhook and nsfw flags stay in the
 * journal; `followed` is BullMQ's (an attempt took the job over by its request id).
 */
export function completedLine(job: LineJob, summary: JobSummary, followed?: boolean): ResultLine {
  return {
    id: job.id,
    ...(job.endpoint !== undefined ? { endpoint: job.endpoint } : {}),
    status: "completed",
    requestId: summary.requestId,
    ...(summary.seed !== undefined ? { seed: summary.seed } : {}),
    timings: summary.timings,
    files: summary.files,
    ...(summary.requests !== undefined ? { requests: summary.requests } : {}),
    ...(followed ? { followed: true } : {}),
  };
}

/** What a failed job left: the request id when the submit was answered (a script can follow it by hand). */
export interface JobFailure {
  requestId?: string | undefined;
  requests?: number | undefined;
  error: JobError;
}

/** The `results.jsonl` line of a failed job. */
export function failedLine(job: LineJob, failure: JobFailure): ResultLine {
  return {
    id: job.id,
    ...(job.endpoint !== undefined ? { endpoint: job.endpoint } : {}),
    status: "failed",
    ...(failure.requestId ? { requestId: failure.requestId } : {}),
    ...(failure.requests !== undefined ? { requests: failure.requests } : {}),
    error: failure.error,
  };
}

/** The line of an input line refused before anything was sent: named by its id, or by its line number when it had none. */
export function problemLine(problem: InputProblem): ResultLine {
  return { id: problem.id ?? `line-${problem.line}`, status: "failed", error: problemError(problem) };
}

/** Failures as a batch summary reports them. */
export interface FailureTally {
  /** Failed jobs plus refused input lines. */
  failed: number;
  /** Failures by reason, the refused lines as `invalid_input`. */
  byReason: Partial<Record<FailureReason, number>>;
  /** Ids of the jobs whose submit outcome is unknown, in input order: the ones a user must decide about. */
  uncertain: string[];
}

/** Counts failed jobs (in input order) and the refused lines: the failure part of both modes' summaries. */
export function tallyFailures(
  failures: Iterable<{ id: string; error: JobError }>,
  problems: readonly InputProblem[],
): FailureTally {
  const tally: FailureTally = { failed: problems.length, byReason: {}, uncertain: [] };
  for (const { id, error } of failures) {
    tally.failed++;
    tally.byReason[error.reason] = (tally.byReason[error.reason] ?? 0) + 1;
    if (error.reason === "uncertain") tally.uncertain.push(id);
  }
  // Refused lines never reach the journal or the queue, so they are counted from the input check.
  if (problems.length) tally.byReason.invalid_input = (tally.byReason.invalid_input ?? 0) + problems.length;
  return tally;
}

/**
 * What to do with a job that is picked up again: by `resumeBatch` from the journal, or by a BullMQ
 * attempt from the job's data after a worker died. The rule is the journal's (see journal.ts): a known
 * request id is followed and never submitted again; an intent without one is `uncertain` and sent again
 * only when the user says so (fal has no idempotency key); a job with neither was never sent.
 */
import type { FailureReason, JobError } from "./errors.js";
import type { JobState } from "./journal.js";

/**
 * Failures of following (not of submitting) that are worth following again by the same request id:
 * the job may still be running or finished at fal, and following it costs no second submit.
 */
export const REFOLLOW_REASONS: readonly FailureReason[] = ["network", "api_error", "timeout"];

export const isRefollowable = (reason: FailureReason): boolean => REFOLLOW_REASONS.includes(reason);

export type ResumeStep =
  /** Finished, or failed for good: leave it. */
  | { step: "skip" }
  /** At fal with a known request id: wait for it, never submit again. */
  | { step: "follow"; requestId: string; submittedAt?: number }
  /** Never reached fal (or the user asked to send an uncertain one again). */
  | { step: "submit" }
  /** Its submit may have been queued and billed: report it, do not send it. */
  | { step: "uncertain" };

/** The journal facts of a job that has not finished: what the runner's journal and a BullMQ job's data both record. */
export interface UnfinishedFacts {
  /** Recorded right after the submit answered. */
  requestId?: string | undefined;
  submittedAt?: number | undefined;
  /** Recorded just before the submit was sent. */
  intentAt?: number | undefined;
}

/** The step for a job that was started (or not) and has no outcome yet. */
export function unfinishedStep(facts: UnfinishedFacts, resubmitUncertain: boolean): Exclude<ResumeStep, { step: "skip" }> {
  if (facts.requestId) {
    return {
      step: "follow",
      requestId: facts.requestId,
      ...(facts.submittedAt !== undefined ? { submittedAt: facts.submittedAt } : {}),
    };
  }
  if (facts.intentAt !== undefined && !resubmitUncertain) return { step: "uncertain" };
  return { step: "submit" };
}

/** The step for a job a journal records as failed: some failures are worth another go, for free or when asked. */
export function failedStep(failure: { requestId?: string; error: JobError }, resubmitUncertain: boolean): ResumeStep {
  const { reason } = failure.error;
  if (failure.requestId) return isRefollowable(reason) ? { step: "follow", requestId: failure.requestId } : { step: "skip" };
  return sendAgain(reason, resubmitUncertain) ? { step: "submit" } : { step: "skip" };
}

/**
 * A failure with no request id is sent again only when nothing can have been queued (a refused
 * connection is `network` at submit) or when the user asked for uncertain ones.
 */
function sendAgain(reason: FailureReason, resubmitUncertain: boolean): boolean {
  return reason === "network" || (reason === "uncertain" && resubmitUncertain);
}

/** The step for a job from its replayed journal state. */
export function resumeStep(state: JobState, resubmitUncertain: boolean): ResumeStep {
  switch (state.state) {
    case "completed":
      return { step: "skip" };
    case "failed":
      return failedStep(state, resubmitUncertain);
    case "submitted":
      return unfinishedStep(state, resubmitUncertain);
    case "uncertain":
      return unfinishedStep(state, resubmitUncertain);
    default:
      return unfinishedStep({}, resubmitUncertain);
  }
}

/**
 * The failure reported for an intent without a request id. `who` names what stopped (the process,
 * a worker); `advice` says how to send it again where there is a way.
 */
export function uncertainFailure(who: string, advice?: string): JobError {
  return {
    reason: "uncertain",
    message: `${who} stopped after sending the submit and before recording its answer: the job may be queued (and billed) at fal${advice ? `; ${advice}` : ""}`,
  };
}

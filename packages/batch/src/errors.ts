/**
 * How a job can end badly, as a closed list a script can switch on, and the package's own error
 * (a `KontextError`, like everything the client throws).
 */
import {
  isConnectionRefused,
  KontextApiError,
  KontextCancelledError,
  KontextError,
  KontextNetworkError,
  KontextTimeoutError,
  KontextValidationError,
} from "@kontext-sdk/client";

/**
 * Why a job failed.
 * - `invalid_input`: the line was refused before anything was sent (validation, a duplicate id).
 * - `rejected`: the submit was answered with a 4xx (bad key, 422 at submit): nothing was queued.
 * - `model_error`: the job ran and fal reported an error with its result (a 422 from the model, a 5xx).
 * - `uncertain`: the submit's outcome is unknown (the connection broke mid-request, a 5xx at submit, or
 *   the process died between sending it and recording the answer). It may be queued and billed; it is
 *   sent again only when the user says so (`resubmitUncertain`), because fal has no idempotency key.
 * - `not_found`: the server no longer knows the request id (a resumed job older than fal keeps results).
 * - `api_error` / `network` / `timeout`: following the job failed after the client's retries.
 * - `download_failed`: the job completed but an image could not be fetched or written.
 * - `cancelled`: the job was cancelled.
 */
export type FailureReason =
  | "invalid_input"
  | "rejected"
  | "model_error"
  | "uncertain"
  | "not_found"
  | "api_error"
  | "network"
  | "timeout"
  | "download_failed"
  | "cancelled";

export const FAILURE_REASONS: readonly FailureReason[] = [
  "invalid_input",
  "rejected",
  "model_error",
  "uncertain",
  "not_found",
  "api_error",
  "network",
  "timeout",
  "download_failed",
  "cancelled",
];

/** A failure as written to the journal and `results.jsonl`. */
export interface JobError {
  reason: FailureReason;
  message: string;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** fal's `error_type` / `X-Fal-Error-Type`. */
  errorType?: string;
  /** The first field a validation error names. */
  field?: string;
  /** The 1-based input line, for `invalid_input`. */
  line?: number;
}

/** The package's errors: a bad journal, a bad option, a missing optional dependency. */
export class BatchError extends KontextError {
  override name = "BatchError";
}

/** A journal line that is not the torn last line of a crash cannot be read: the journal is damaged. */
export class JournalError extends BatchError {
  override name = "JournalError";
  declare line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

/**
 * Whether a failed submit may still have queued a job. fal has no idempotency key, so this decides
 * between "safe to send again" and "uncertain": a reset, a cut-off answer or a 5xx may have queued it;
 * a refused connection, a 429 (fal's queue-length cap or rate limit) or another 4xx did not.
 */
export function submitOutcomeUnknown(error: unknown): boolean {
  if (error instanceof KontextNetworkError) return !isConnectionRefused(error);
  if (error instanceof KontextTimeoutError) return true;
  if (error instanceof KontextApiError) return error.status >= 500 || (error.status >= 200 && error.status < 300);
  return false;
}

/** A 429: fal's queue-length cap or a rate limit. Nothing was queued; back off and send again. */
export const isRateLimited = (error: unknown) => error instanceof KontextApiError && error.status === 429;

/** Turns whatever a stage threw into the typed failure written to the journal. */
export function toJobError(error: unknown, stage: "submit" | "follow" | "download"): JobError {
  const message = error instanceof Error ? error.message : String(error);
  if (stage === "download") return { reason: "download_failed", message };
  if (error instanceof KontextCancelledError) return { reason: "cancelled", message };
  if (error instanceof KontextValidationError) {
    const field = error.issues.find((i) => i.field)?.field;
    const base = { message, ...(error.status ? { status: error.status } : {}), ...(field ? { field } : {}) };
    return stage === "submit" ? { reason: "rejected", ...base } : { reason: "model_error", ...base };
  }
  if (error instanceof KontextNetworkError) {
    // A refused connection never reached a server: a plain network failure, safe to submit again.
    return { reason: stage === "submit" && !isConnectionRefused(error) ? "uncertain" : "network", message };
  }
  if (error instanceof KontextTimeoutError) return { reason: stage === "submit" ? "uncertain" : "timeout", message };
  if (error instanceof KontextApiError) {
    const base = { message, status: error.status, ...(error.errorType ? { errorType: error.errorType } : {}) };
    if (stage === "submit") return { reason: submitOutcomeUnknown(error) ? "uncertain" : "rejected", ...base };
    if (error.status === 404) return { reason: "not_found", ...base };
    if (error.errorType === "client_cancelled") return { reason: "cancelled", ...base };
    // A result answered with an error status is the model's verdict on the job, not a transport problem.
    return { reason: error.retryable ? "api_error" : "model_error", ...base };
  }
  return { reason: "api_error", message };
}

/** A connection refused provably never reached a server (the client's rule, re-exported for scripts). */
export { isConnectionRefused };

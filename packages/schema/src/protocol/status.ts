/**
 * Queue statuses on the wire: fal's status call answers 202 while a job is IN_QUEUE or IN_PROGRESS and
 * 200 once it is COMPLETED (fal.ai/docs/api-reference/inference-api). There is no FAILED status: a failed
 * job is COMPLETED, maybe with `error`/`error_type`, and its error comes from the result call.
 */

/** The statuses a job passes through, in order. */
export type QueueStatusName = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

/** True once a job has finished (successfully or not): only then does the result call answer. */
export const isFinished = (status: string | undefined) => status === "COMPLETED";

/** The HTTP status of a status answer. */
export const statusHttpCode = (status: QueueStatusName) => (status === "COMPLETED" ? 200 : 202);

/** `url` with fal's `logs` flag (fal-js sends `logs=1`; only the flag set is sent here). */
export function withLogs(url: string, logs: boolean | undefined): string {
  return logs ? `${url}${url.includes("?") ? "&" : "?"}logs=1` : url;
}

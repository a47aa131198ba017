/**
 * The bodies a job answers with: its queue URLs, its status (IN_QUEUE / IN_PROGRESS / COMPLETED with
 * logs and metrics) and its result (the output, or the error it failed with).
 */
import type { QueueStatus } from "@kontext-sdk/schema";
import { FAL_HEADERS, joinUrl, requestPath } from "@kontext-sdk/schema/protocol";
import type { Job } from "./job.js";
import type { JobStore } from "./job-store.js";
import { outputFor } from "./outputs.js";
import { finalLogCount, logTime } from "./timeline.js";

/** The three URLs fal returns with a request id, on the origin the client called. */
export function queueUrls(base: string, job: Job) {
  return {
    response_url: joinUrl(base, requestPath(job.endpoint, job.requestId, "result")),
    status_url: joinUrl(base, requestPath(job.endpoint, job.requestId, "status")),
    cancel_url: joinUrl(base, requestPath(job.endpoint, job.requestId, "cancel")),
  };
}

/** Files are served on the host the job was reached through: `/files/{requestId}/{fileName}`. */
const fileUrl = (base: string, job: Job) => (_index: number, fileName: string) => `${base}/files/${job.requestId}/${fileName}`;

function logLines(job: Job, count: number) {
  return Array.from({ length: count }, (_, index) => ({
    message: `Step ${index + 1} of ${job.timeline.progressSteps}: generating ${job.input.num_images ?? 1} image(s)`,
    level: "INFO",
    source: "user",
    timestamp: new Date(logTime(job.timeline, job.startsAt, index)).toISOString(),
  }));
}

/** The status of `job` at `now`, as the status call and the stream send it. */
export function statusBody(store: JobStore, job: Job, base: string, withLogs: boolean, now: number): QueueStatus {
  const phase = job.phase(now);
  const common = { request_id: job.requestId, ...queueUrls(base, job) };
  const logCount =
    phase.state === "IN_PROGRESS" ? phase.logCount : phase.state === "COMPLETED" ? finalLogCount(job.timeline, job.instants) : 0;
  const logs = withLogs ? { logs: logLines(job, logCount) } : {};
  if (phase.state === "IN_QUEUE") {
    return { status: "IN_QUEUE", ...common, queue_position: store.queuePosition(job, now), ...logs };
  }
  if (phase.state === "IN_PROGRESS") return { status: "IN_PROGRESS", ...common, ...logs };
  // Jobs that never ran to the end (cancelled, timed out before starting, refused input) report no inference time.
  const metrics = { inference_time: job.failure?.stoppedEarly ? null : job.generation.inferenceTime };
  const error = job.failure ? { error: job.failure.error, error_type: job.failure.errorType ?? null } : {};
  return { status: "COMPLETED", ...common, ...logs, metrics, ...error };
}

export interface ResultAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** What the result call (and a sync run, and the webhook) answers for a completed job. */
export function resultOf(job: Job, base: string): ResultAnswer {
  const headers: Record<string, string> = { [FAL_HEADERS.requestId]: job.requestId };
  const failure = job.failure;
  if (failure) {
    if (failure.errorType) headers[FAL_HEADERS.errorType] = failure.errorType;
    return { status: failure.status, body: failure.body, headers: { ...headers, ...failure.headers } };
  }
  return { status: 200, body: outputFor(job.generation, fileUrl(base, job)), headers };
}

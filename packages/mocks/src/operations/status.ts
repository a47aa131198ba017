/** Status (202 while queued or running, 200 once COMPLETED) and result (the output, or the job's error). */
import { FAL_HEADERS, jsonResponse, statusHttpCode } from "@kontext-sdk/schema/protocol";
import { resultOf, statusBody } from "../answers.js";
import type { MockState } from "../context.js";
import type { Job } from "../job.js";
import { stillInProgress } from "../responses.js";

/** fal-js sends `logs=1`; `true` is accepted too. */
export function wantsLogs(url: URL): boolean {
  const value = url.searchParams.get("logs");
  return value === "1" || value === "true";
}

export function status(state: MockState, job: Job, origin: string, url: URL): Response {
  const body = statusBody(state.store, job, origin, wantsLogs(url), state.clock.now());
  return jsonResponse(statusHttpCode(body.status), body, { [FAL_HEADERS.requestId]: job.requestId });
}

export function result(job: Job, origin: string): Response {
  if (job.state !== "COMPLETED") return stillInProgress();
  const answer = resultOf(job, origin);
  return jsonResponse(answer.status, answer.body, answer.headers);
}

/**
 * Cancel, as fal does it: a queued job is removed at once (202, then 404), a running job stops at once
 * (202; it completes with a `client_cancelled` error), a finished one answers 400 `ALREADY_COMPLETED`.
 * Unknown ids are answered before this, with the same flat 404 as status and result.
 */
import { jsonResponse } from "@kontext-sdk/schema/protocol";
import type { MockState } from "../context.js";
import { cancelled } from "../failures.js";
import type { Job } from "../job.js";

export function cancel(state: MockState, job: Job): Response {
  const phase = job.phase();
  if (phase.state === "COMPLETED") return jsonResponse(400, { status: "ALREADY_COMPLETED" });
  if (phase.state === "IN_QUEUE") {
    state.store.remove(job);
    return jsonResponse(202, { status: "CANCELLATION_REQUESTED" });
  }
  // A running job is told to stop; the mock's runner always obeys, at once.
  job.cancelled = true;
  job.failure = cancelled();
  state.store.end(job, state.clock.now());
  state.webhooks.scheduleCompletion(job);
  job.notify();
  return jsonResponse(202, { status: "CANCELLATION_REQUESTED" });
}

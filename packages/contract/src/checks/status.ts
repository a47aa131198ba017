/**
 * Status calls: one answer with every per-answer rule applied (202 until COMPLETED, then 200; URLs on
 * owner/app and on the base origin; never backwards), and polling until the job is done.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import { isFinished, requestPath, sleep } from "@kontext-sdk/schema/protocol";
import { checkProgress, checkQueueUrls, checkStatusCode } from "../protocol-rules.js";
import { queueUrl, type Recorder, type RunContext, urlContext } from "../run/context.js";
import { retryAfterMs, send } from "../run/http.js";

/** What one status call told: a state (with the body it came in), a documented 429 to wait out, or nothing usable. */
export type StatusOutcome = { state: string; body: unknown } | { rateLimitedMs: number } | undefined;

export const stateOf = (outcome: StatusOutcome) => (outcome && "state" in outcome ? outcome.state : undefined);

export async function statusOnce(
  context: RunContext,
  recorder: Recorder,
  endpoint: EndpointId,
  requestId: string,
  logs: 0 | 1,
  previous?: string,
): Promise<StatusOutcome> {
  const url = queueUrl(context, endpoint, requestId, "status", `?logs=${logs}`);
  const exchange = await send(context, recorder, "getStatus", "GET", url);
  if (exchange.failed) return undefined;
  const base = { operationId: "getStatus" as const, status: exchange.status };
  // A documented 429 is not a failure of the job: the poll loop waits and asks again.
  if (exchange.status === 429) {
    return { rateLimitedMs: retryAfterMs(exchange.headers) ?? Math.max(context.pollIntervalMs, 1_000) };
  }
  if (exchange.status === 404) {
    recorder.violations.push({
      ...base,
      rule: "owner-app-path",
      path: "$",
      message: `status on ${requestPath(endpoint, requestId, "status")} answered 404 for a request just submitted`,
    });
    return undefined;
  }
  recorder.violations.push(...checkStatusCode(exchange.status, exchange.body, base));
  recorder.violations.push(...checkQueueUrls(exchange.body, urlContext(context, endpoint, requestId), base));
  const state = (exchange.body as { status?: unknown } | null)?.status;
  recorder.violations.push(...checkProgress(previous, state, base));
  return typeof state === "string" ? { state, body: exchange.body } : undefined;
}

export interface PollOutcome {
  /** The last state seen, or the one passed in when nothing new was learnt. */
  last: string | undefined;
  /** How many status calls it took. */
  polls: number;
  /** The COMPLETED status body, when it arrived: fal may put `error`/`error_type` on it. */
  completed?: unknown;
}

/**
 * Status until COMPLETED (alternating the logs flag), waiting out documented 429s; `not-completed`
 * once `timeoutMs` has passed.
 */
export async function pollToCompletion(
  context: RunContext,
  recorder: Recorder,
  endpoint: EndpointId,
  requestId: string,
  previous: string | undefined,
): Promise<PollOutcome> {
  const deadline = Date.now() + context.timeoutMs;
  let last = previous;
  let polls = 0;
  for (;;) {
    const outcome = await statusOnce(context, recorder, endpoint, requestId, (polls % 2) as 0 | 1, last);
    polls++;
    const state = stateOf(outcome);
    if (state) last = state;
    if (isFinished(state) && outcome && "body" in outcome) return { last, polls, completed: outcome.body };
    if (outcome === undefined) break;
    if (Date.now() >= deadline) {
      recorder.violations.push({
        operationId: "getStatus",
        rule: "not-completed",
        path: "$.status",
        message: `still ${last ?? "unknown"} after ${context.timeoutMs} ms`,
      });
      break;
    }
    const waitMs = outcome && "rateLimitedMs" in outcome ? outcome.rateLimitedMs : context.pollIntervalMs;
    if (outcome && "rateLimitedMs" in outcome) recorder.notes.push(`rate limited; waited ${waitMs} ms`);
    await sleep(waitMs, context.signal);
  }
  return { last, polls };
}

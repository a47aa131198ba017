/**
 * Submit: queue a job. Like fal, any readable JSON body is accepted (200 IN_QUEUE) and the job itself
 * refuses a bad input, at its result; `validateAt: "submit"` refuses it here instead, as some gateways do.
 * The submit query's `fal_webhook` and `fal_max_queue_length`, and the `x-fal-request-timeout` header,
 * are fal's gateway's business and are checked here.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import { endpoints } from "@kontext-sdk/schema";
import {
  appPath,
  FAL_HEADERS,
  FAL_QUERY,
  flatErrorResponse,
  jsonResponse,
  validationErrorResponse,
} from "@kontext-sdk/schema/protocol";
import { queueUrls } from "../answers.js";
import type { MockState, RequestScope } from "../context.js";
import { faultAtResult, invalidInput, startTimeout } from "../failures.js";
import type { Job } from "../job.js";
import { readInput, refusedInput } from "./input.js";

export function submit(state: MockState, scope: RequestScope, endpoint: EndpointId): Response {
  const read = readInput(endpoint, scope.body);
  if (!read.ok) return read.response;
  if (!read.valid && state.validateAt === "submit") return refusedInput(read.issues);
  const webhookUrl = scope.url.searchParams.get(FAL_QUERY.webhook) ?? undefined;
  const refusal = webhookUrl === undefined ? undefined : state.webhooks.refusal(webhookUrl);
  if (refusal) {
    return validationErrorResponse(
      [{ loc: ["query", FAL_QUERY.webhook], msg: refusal, type: "url_parsing", input: webhookUrl }],
      {
        [FAL_HEADERS.errorType]: "validation_error",
      },
    );
  }
  const queueFull = queueLengthRefusal(state, scope, endpoint);
  if (queueFull) return queueFull;

  const job = state.store.add({
    endpoint,
    input: read.input,
    submittedAt: state.clock.now(),
    timeline: state.timeline,
    clock: state.clock,
    base: scope.origin,
    webhookUrl,
    sync: false,
  });
  if (!read.valid) job.failure = invalidInput(read.issues);
  const failAt = scope.hits.find((fault) => fault.kind === "fail-at-result");
  if (failAt?.kind === "fail-at-result") job.failure ??= faultAtResult(failAt, endpoint);
  applyStartTimeout(state, job, scope.request.headers.get(FAL_HEADERS.requestTimeout));
  state.webhooks.scheduleCompletion(job);

  const now = state.clock.now();
  const body = {
    status: "IN_QUEUE",
    request_id: job.requestId,
    ...queueUrls(scope.origin, job),
    queue_position: state.store.queuePosition(job, now),
  };
  return jsonResponse(200, body, { [FAL_HEADERS.requestId]: job.requestId });
}

/**
 * `fal_max_queue_length=N`: refuse with a 429 when N jobs of the app already wait IN_QUEUE (only waiting
 * jobs count; running ones hold the account's concurrency slots instead).
 */
function queueLengthRefusal(state: MockState, scope: RequestScope, endpoint: EndpointId): Response | undefined {
  const raw = scope.url.searchParams.get(FAL_QUERY.maxQueueLength);
  if (raw === null) return undefined;
  const max = Number(raw);
  if (!Number.isInteger(max) || max < 0) {
    return validationErrorResponse(
      [
        {
          loc: ["query", FAL_QUERY.maxQueueLength],
          msg: "Input should be a valid integer, at least 0",
          type: "int_parsing",
          input: raw,
        },
      ],
      { [FAL_HEADERS.errorType]: "validation_error" },
    );
  }
  const app = endpoints[endpoint].appPath;
  const waiting = state.store.waitingCount((job) => appPath(job.endpoint) === app, state.clock.now());
  if (waiting < max) return undefined;
  return flatErrorResponse(
    429,
    `The queue is full: ${waiting} requests are waiting (${FAL_QUERY.maxQueueLength}=${max})`,
    "queue_full",
    {
      "retry-after": "1",
      [FAL_HEADERS.retryable]: "true",
    },
  );
}

/**
 * fal's start timeout: a job that would still be queued when `x-fal-request-timeout` seconds have passed
 * fails then, with a 504 that clients must not retry. Judged at submit, against the start the job has then.
 */
function applyStartTimeout(state: MockState, job: Job, header: string | null): void {
  const seconds = Number(header);
  if (!(seconds > 0) || seconds * 1000 >= job.startsAt - job.submittedAt) return;
  job.failure = startTimeout();
  state.store.end(job, job.submittedAt + seconds * 1000);
}

/**
 * Submitting a job: the runner's own input is checked against the spec first (a contract tool must
 * not send what the spec forbids), then the answer. A small valid job must be accepted.
 */
import { type EndpointId, formatIssues, endpoints as registry, validateInput } from "@kontext-sdk/schema";
import { describeErrorBody, joinUrl, queuePaths, truncate } from "@kontext-sdk/schema/protocol";
import { checkQueueUrls, checkRequestId } from "../protocol-rules.js";
import { type Recorder, type RunContext, urlContext } from "../run/context.js";
import { type Exchange, send } from "../run/http.js";
import type { JobInput } from "../run/inputs.js";
import type { OperationId } from "../spec-operations.js";

/** A readable one-line account of an answer that was not the expected one. */
export function answerText(exchange: Exchange): string {
  return describeErrorBody(exchange.body ?? exchange.text, 80) || truncate(exchange.text, 80) || "(no body)";
}

export interface SubmitOptions {
  /** False for an input that is invalid on purpose; default true. */
  expectValid?: boolean;
  /** `sync` runs the job on the sync host (`syncBaseUrl`), which answers the output at once. */
  host?: "queue" | "sync";
}

/** POSTs `input` to the endpoint; counts its images against the run's total. */
export async function submit(
  context: RunContext,
  recorder: Recorder,
  endpoint: EndpointId,
  input: JobInput,
  options: SubmitOptions = {},
): Promise<Exchange> {
  const sync = options.host === "sync";
  const operationId = (sync ? registry[endpoint].syncOperationId : registry[endpoint].operationId) as OperationId;
  const checked = validateInput(endpoint, input);
  if (options.expectValid !== false && !checked.ok) {
    recorder.violations.push({
      operationId,
      rule: "request-invalid",
      path: "$",
      message: `the runner's own input is invalid: ${formatIssues(checked.issues)}`,
    });
  }
  context.imagesRequested += typeof input.num_images === "number" ? input.num_images : 1;
  const host = sync ? (context.syncBaseUrl ?? context.baseUrl) : context.baseUrl;
  return send(context, recorder, operationId, "POST", joinUrl(host, queuePaths(endpoint, "unused").submit), input);
}

/** The request id of an accepted submit answer, if it has a usable one. */
export function requestIdOf(body: unknown): string | undefined {
  const id = (body as { request_id?: unknown } | null)?.request_id;
  return typeof id === "string" && id.length > 0 ? id : undefined;
}

/**
 * A small valid job that must be accepted: a rejection, a missing request id and off-base queue URLs
 * are violations (a wrong key must read as a failure, not as a run of skipped checks). Returns the
 * request id, if there is one to go on with.
 */
export async function acceptedSubmit(
  context: RunContext,
  recorder: Recorder,
  endpoint: EndpointId,
  input: JobInput,
): Promise<string | undefined> {
  const exchange = await submit(context, recorder, endpoint, input);
  const base = { operationId: registry[endpoint].operationId, status: exchange.status };
  if (exchange.status >= 300) {
    recorder.violations.push({
      ...base,
      rule: "submit-rejected",
      path: "$",
      message: `a small valid job was answered ${exchange.status}: ${answerText(exchange)}${exchange.status === 401 || exchange.status === 403 ? " (check the key and the auth scheme)" : ""}`,
    });
    return undefined;
  }
  if (exchange.failed) return undefined;
  recorder.violations.push(...checkRequestId(exchange.body, base));
  const requestId = requestIdOf(exchange.body);
  if (requestId === undefined) return undefined;
  recorder.violations.push(...checkQueueUrls(exchange.body, urlContext(context, endpoint, requestId), base));
  return requestId;
}

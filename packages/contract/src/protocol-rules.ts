/**
 * The queue protocol's rules that a JSON schema cannot express: they relate an answer to the
 * request that produced it, to the configured host, or to earlier answers in the conversation.
 * Each rule has a stable name so reports, CI filters and tests can refer to it.
 */
import { isFinished, type RequestOperation, requestPath, statusHttpCode } from "@kontext-sdk/schema/protocol";
import type { OperationId } from "./spec-operations.js";
import type { Violation } from "./validate-response.js";

/** Every named rule the runner reports besides schema keywords (`schema:<keyword>`). */
export const PROTOCOL_RULES = {
  "undocumented-status": "the HTTP status is not documented for the operation",
  "content-type": "the content type is not the documented one",
  "invalid-json": "a JSON body (or stream event) could not be parsed",
  "request-invalid": "a request the runner was about to send failed the spec's input schema (a bug in the runner)",
  "network-error": "the request failed before an answer arrived (connection, DNS, timeout)",
  "runner-error": "the check itself stopped on an unexpected error (the message says which)",
  "submit-rejected": "a small valid job was not accepted (e.g. 401 for the key, 429, 4xx/5xx)",
  "request-id-missing": "the submit answer has no request_id",
  "owner-app-url":
    "a returned status_url/response_url/cancel_url is not on the owner/app path (fal-ai/flux-pro/requests/{id}...)",
  "owner-app-path": "status/result/cancel on the owner/app path did not find a request that was just submitted",
  "foreign-origin": "a returned URL points at another origin than the base URL",
  "pending-status-200": "an IN_QUEUE or IN_PROGRESS status was answered with 200 instead of 202",
  "completed-status-not-200": "a COMPLETED status was answered with another code than 200",
  "status-regressed": "the status went backwards (e.g. COMPLETED then IN_QUEUE)",
  "result-before-completed": "the result was served (200) while the status was not yet COMPLETED",
  "sse-unterminated-event": "the stream's last event lacks the blank line that ends an event, so SSE readers drop it",
  "stream-closed-early": "the status stream ended before a COMPLETED event",
  "not-completed": "the job did not reach COMPLETED within the time limit",
  "result-failed": "a small valid job did not produce an output",
  "image-count": "the output does not hold the requested number of images",
  "invalid-input-not-422": "an invalid input was not answered with fal's 422, neither at submit nor from the result",
  "unknown-id-not-404": "an unknown request id was not answered with 404 (or, for cancel, a NOT_FOUND body)",
  "credentials-required": "the server refused a run without credentials (401/403): pass a key",
} as const;

export type ProtocolRule = keyof typeof PROTOCOL_RULES;

type Base = { operationId?: OperationId | string; status?: number };

const ORDER: Record<string, number> = { IN_QUEUE: 0, IN_PROGRESS: 1, COMPLETED: 2 };

/** `request_id` must be a non-empty string: every later call is keyed by it. */
export function checkRequestId(body: unknown, base: Base): Violation[] {
  const id = (body as { request_id?: unknown } | null)?.request_id;
  if (typeof id === "string" && id.length > 0) return [];
  return [{ ...base, rule: "request-id-missing", path: "$.request_id", message: "the submit answer carries no request_id" }];
}

/** 202 while IN_QUEUE/IN_PROGRESS, 200 once COMPLETED (fal's docs; the spec's getStatus). */
export function checkStatusCode(httpStatus: number, body: unknown, base: Base): Violation[] {
  const state = (body as { status?: unknown } | null)?.status;
  if ((state === "IN_QUEUE" || state === "IN_PROGRESS") && httpStatus === 200) {
    return [
      {
        ...base,
        rule: "pending-status-200",
        path: "$.status",
        message: `${state} was answered with 200; fal answers 202 until COMPLETED`,
      },
    ];
  }
  if (typeof state === "string" && isFinished(state) && httpStatus !== statusHttpCode("COMPLETED")) {
    return [
      {
        ...base,
        rule: "completed-status-not-200",
        path: "$.status",
        message: `COMPLETED was answered with ${httpStatus}; fal answers 200`,
      },
    ];
  }
  return [];
}

/** A job's status only moves forward; returns the violation when `next` is behind `previous`. */
export function checkProgress(previous: string | undefined, next: unknown, base: Base, path = "$.status"): Violation[] {
  if (previous === undefined || typeof next !== "string") return [];
  if ((ORDER[next] ?? 0) >= (ORDER[previous] ?? 0)) return [];
  return [{ ...base, rule: "status-regressed", path, message: `the status went from ${previous} back to ${next}` }];
}

export interface QueueUrlContext {
  /** The configured queue base URL (its origin is the only one a client may send the key to). */
  baseUrl: string;
  /** The endpoint's owner/app, e.g. `fal-ai/flux-pro`. */
  appPath: string;
  endpoint: string;
  requestId: string;
  /** Gateways that answer with fal's own URLs (spec/DECISIONS.md #9) pass this to silence `foreign-origin`. */
  allowForeignUrls?: boolean;
  /**
   * URLs already reported as `foreign-origin`, shared across calls: each URL is reported once, not once
   * per status poll or stream event that repeats it. Filled in as URLs are reported.
   */
  reportedForeignUrls?: Set<string>;
}

const URL_OPERATION: Record<string, RequestOperation> = { status_url: "status", response_url: "result", cancel_url: "cancel" };

/**
 * The returned status/response/cancel URLs: on the base URL's origin (a client following another
 * origin would send the key there) and on owner/app, never on the endpoint's sub-path.
 */
export function checkQueueUrls(body: unknown, context: QueueUrlContext, base: Base, root = "$"): Violation[] {
  if (body === null || typeof body !== "object") return [];
  const violations: Violation[] = [];
  const expectedOrigin = new URL(context.baseUrl).origin;
  for (const [field, operation] of Object.entries(URL_OPERATION)) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value !== "string") continue;
    const path = `${root}.${field}`;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue; // the schema's `format: uri` already reports it
    }
    if (!context.allowForeignUrls && url.origin !== expectedOrigin && !context.reportedForeignUrls?.has(value)) {
      context.reportedForeignUrls?.add(value);
      violations.push({
        ...base,
        rule: "foreign-origin",
        path,
        message: `${field} ${value} is on ${url.origin}, not on the base URL's origin ${expectedOrigin} (reported once per URL)`,
      });
    }
    // `appPath` is already owner/app, so the core's owner/app rule leaves it as it is.
    const expected = decodeURIComponent(requestPath(context.appPath, context.requestId, operation));
    const actual = decodeURIComponent(url.pathname).replace(/\/+$/, "");
    if (!actual.endsWith(expected)) {
      const subPath = actual.includes(`/${context.endpoint}/requests/`);
      violations.push({
        ...base,
        rule: "owner-app-url",
        path,
        message: subPath
          ? `${field} uses the endpoint's sub-path (${url.pathname}); status, result and cancel live on owner/app: ${expected}`
          : `${field} path ${url.pathname} is not ${expected}`,
      });
    }
  }
  return violations;
}

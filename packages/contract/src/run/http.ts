/**
 * One HTTP exchange of the run, with every per-answer rule that needs no context applied: the body
 * must be JSON when there is one, and the answer must match the spec for its operation. Raw `fetch`
 * on purpose: a client's retries and URL rewriting would hide exactly the answers a contract check
 * must see.
 */
import { parseRetryAfter, truncate } from "@kontext-sdk/schema/protocol";
import type { OperationId } from "../spec-operations.js";
import { validateResponse } from "../validate-response.js";
import { errorText, type Recorder, type RunContext } from "./context.js";

export interface Exchange {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
  /** Network failure or unreadable body; the answer could not be checked further. */
  failed: boolean;
}

// A hostile or confused server must not be able to stall a run with a huge Retry-After.
const RETRY_AFTER_CAP_MS = 60_000;

/** `Retry-After` (seconds or an HTTP date) in milliseconds, capped; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = parseRetryAfter(headers.get("retry-after"));
  return ms === undefined ? undefined : Math.min(ms, RETRY_AFTER_CAP_MS);
}

/** The run's signal combined with a per-call timeout. */
export function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** The headers every call sends: the key only ever goes to the configured base URLs. */
export function requestHeaders(context: RunContext, accept: string, hasBody = false): Record<string, string> {
  const headers: Record<string, string> = { accept };
  if (context.authorization) headers.authorization = context.authorization;
  if (hasBody) headers["content-type"] = "application/json";
  return headers;
}

export async function send(
  context: RunContext,
  recorder: Recorder,
  operationId: OperationId,
  method: string,
  url: string,
  json?: unknown,
): Promise<Exchange> {
  context.signal?.throwIfAborted();
  const init: RequestInit = {
    method,
    headers: requestHeaders(context, "application/json", json !== undefined),
    signal: withTimeout(context.signal, context.requestTimeoutMs),
  };
  if (json !== undefined) init.body = JSON.stringify(json);
  let response: Response;
  try {
    response = await context.fetch(url, init);
  } catch (error) {
    if (context.signal?.aborted) throw context.signal.reason;
    recorder.violations.push({ operationId, rule: "network-error", path: "$", message: `${method} ${url}: ${errorText(error)}` });
    return { status: 0, headers: new Headers(), text: "", body: undefined, failed: true };
  }
  // Redacted before anything reads or shortens it; `[redacted]` keeps a JSON body JSON.
  const text = context.redact(await response.text());
  const exchange: Exchange = { status: response.status, headers: response.headers, text, body: undefined, failed: false };
  if (text !== "") {
    try {
      exchange.body = JSON.parse(text);
    } catch {
      exchange.failed = true;
      const type = response.headers.get("content-type") || "(no content-type)";
      recorder.violations.push({
        operationId,
        status: response.status,
        rule: "invalid-json",
        path: "$",
        message: `${method} ${url} answered ${response.status} ${type} that is not JSON: ${truncate(text, 80)}`,
      });
      return exchange;
    }
  }
  recorder.violations.push(...validateResponse(operationId, response.status, exchange.body, response.headers));
  return exchange;
}

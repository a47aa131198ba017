/**
 * What a fired fault answers. Latency waits on the mock's clock first (and adds up across rules);
 * then the first fault that produces an answer wins. Faults that act later (`stream-drop`,
 * `fail-at-result`) produce nothing here: the stream and the job read them.
 */
import { FAL_HEADERS, jsonResponse } from "@kontext-sdk/schema/protocol";
import { type MockClock, sleepOn } from "./clock.js";
import { FAL_ERROR_SHAPES } from "./error-shapes.js";
import type { Fault, MockOperation } from "./faults.js";
import { defaultErrorBody } from "./responses.js";

/** The answer the faults that hit a request give, or undefined to let it through. */
export async function faultResponse(
  hits: readonly Fault[],
  operation: MockOperation,
  clock: MockClock,
  signal: AbortSignal | null,
): Promise<Response | undefined> {
  const latency = hits.reduce((ms, fault) => (fault.kind === "latency" ? ms + Math.max(0, fault.ms ?? 1000) : ms), 0);
  if (latency > 0) await sleepOn(clock, latency, signal);
  for (const fault of hits) {
    const answer = answerFor(fault, operation);
    if (answer) return answer;
  }
  return undefined;
}

function answerFor(fault: Fault, operation: MockOperation): Response | undefined {
  switch (fault.kind) {
    case "reset":
      return Response.error();
    case "status":
      return statusFault(fault, operation);
    case "malformed-json":
      return new Response('{"status": "IN_QUEUE", "request_id": "', {
        status: fault.status ?? 200,
        headers: { "content-type": "application/json" },
      });
    case "html":
      return htmlPage(fault.status ?? 502, fault.html);
    default:
      return undefined;
  }
}

function statusFault(fault: Extract<Fault, { kind: "status" }>, operation: MockOperation): Response {
  const shape = fault.shape ? FAL_ERROR_SHAPES[fault.shape] : undefined;
  const code = fault.status ?? shape?.status ?? defaultFaultStatus(operation);
  const headers: Record<string, string> = { ...(shape?.headers ?? {}), ...(fault.headers ?? {}) };
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  const body = fault.body ?? shape?.body ?? defaultErrorBody(code);
  const errorType = (body as { error_type?: unknown } | null)?.error_type;
  if (typeof errorType === "string") headers[FAL_HEADERS.errorType] ??= errorType;
  if (code >= 500 || code === 429) headers[FAL_HEADERS.retryable] ??= "true";
  return jsonResponse(code, body, headers);
}

function htmlPage(code: number, html: string | undefined): Response {
  const page =
    html ??
    `<!DOCTYPE html><html><head><title>${code} Bad Gateway</title></head><body><h1>${code} Bad Gateway</h1><hr><p>nginx</p></body></html>`;
  return new Response(page, { status: code, headers: { "content-type": "text/html; charset=utf-8" } });
}

/** A spec-listed error status for each operation, so a bare `{kind:"status"}` fault stays spec-valid. */
function defaultFaultStatus(operation: MockOperation): number {
  if (operation === "result") return 503;
  if (operation === "run") return 504;
  if (operation === "files") return 500;
  if (operation === "upload") return 503;
  return 429;
}

/** Small builders for fal-shaped answers, shared by the router and the fault layer. */
import type { FlatError } from "@kontext-sdk/schema";

/** The text of JSON answers, so the node server can write it without reading the body stream back. */
const rawBodies = new WeakMap<Response, string>();
export const rawBody = (response: Response): string | undefined => rawBodies.get(response);

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  const response = new Response(text, { status, headers: { "content-type": "application/json", ...headers } });
  rawBodies.set(response, text);
  return response;
}

export function flat(status: number, detail: string, errorType?: string, headers: Record<string, string> = {}): Response {
  const body: FlatError = errorType ? { detail, error_type: errorType } : { detail };
  const extra: Record<string, string> = errorType && status >= 500 ? { "x-fal-error-type": errorType } : {};
  return json(body, status, { ...extra, ...headers });
}

export const notFound = () => json({ detail: "Not Found" }, 404);
export const methodNotAllowed = () => json({ detail: "Method Not Allowed" }, 405);
export const unauthorized = () => flat(401, "Authorization header is missing or invalid");
export const requestNotFound = () => flat(404, "Request not found");
export const malformedJson = () => flat(400, "Request body is not valid JSON", "bad_request");

/** fal's generic error types for the codes the fault layer produces by default. */
export const DEFAULT_ERRORS: Record<number, { detail: string; errorType: string }> = {
  400: { detail: "Bad request", errorType: "bad_request" },
  429: { detail: "Too many requests", errorType: "rate_limited" },
  499: { detail: "Client cancelled the request", errorType: "client_cancelled" },
  500: { detail: "Internal server error", errorType: "internal_error" },
  502: { detail: "Runner returned an incomplete response", errorType: "runner_incomplete_response" },
  503: { detail: "Runner scheduling failure", errorType: "runner_scheduling_failure" },
  504: { detail: "Request timed out", errorType: "request_timeout" },
};

export function defaultErrorBody(status: number): FlatError {
  const known = DEFAULT_ERRORS[status];
  return known ? { detail: known.detail, error_type: known.errorType } : { detail: `Error ${status}` };
}

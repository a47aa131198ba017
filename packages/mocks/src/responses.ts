/**
 * The mock's own answers, built with the protocol core's helpers (one signature everywhere:
 * `(status, body, headers)`). Every flat error carries its type in the body and in `x-fal-error-type`,
 * exactly as the proxy answers, so a client sees the same thing from either.
 */
import { flatErrorResponse } from "@kontext-sdk/schema/protocol";

export const notFound = () => flatErrorResponse(404, "Not Found", "not_found");
export const methodNotAllowed = () => flatErrorResponse(405, "Method Not Allowed", "method_not_allowed");
export const unauthorized = () => flatErrorResponse(401, "Authorization header is missing or invalid", "unauthorized");
/** fal's answer for an unknown request id, on status, stream, result and cancel alike. */
export const requestNotFound = () => flatErrorResponse(404, "Request not found", "request_not_found");
export const stillInProgress = () => flatErrorResponse(400, "Request is still in progress", "request_in_progress");
export const badRequest = (detail: string) => flatErrorResponse(400, detail, "bad_request");
export const internalError = () => flatErrorResponse(500, "Internal server error", "internal_error");

/** fal's generic error types for the codes the fault layer produces by default. */
const DEFAULT_ERRORS: Record<number, { detail: string; errorType: string }> = {
  400: { detail: "Bad request", errorType: "bad_request" },
  429: { detail: "Too many requests", errorType: "rate_limited" },
  499: { detail: "Client cancelled the request", errorType: "client_cancelled" },
  500: { detail: "Internal server error", errorType: "internal_error" },
  502: { detail: "Runner returned an incomplete response", errorType: "runner_incomplete_response" },
  503: { detail: "Runner scheduling failure", errorType: "runner_scheduling_failure" },
  504: { detail: "Request timed out", errorType: "request_timeout" },
};

export function defaultErrorBody(status: number): { detail: string; error_type?: string } {
  const known = DEFAULT_ERRORS[status];
  return known ? { detail: known.detail, error_type: known.errorType } : { detail: `Error ${status}` };
}

/** The proxy's own answers: fal's flat error shape, the type repeated in `x-fal-error-type`. */
import { flatErrorResponse } from "@kontext-sdk/schema/protocol";

/** A fal-shaped flat error, `{detail, error_type}`, with the type also in `x-fal-error-type`. */
export function fail(status: number, errorType: string, detail: string, headers: Record<string, string> = {}): Response {
  return flatErrorResponse(status, detail, errorType, headers);
}

export function notAllowed(method: string): Response {
  return fail(403, "proxy_operation_not_allowed", `${method} on this path is not an allowed operation`);
}

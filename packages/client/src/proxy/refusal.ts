/**
 * The proxy's own answers. Its refusals use fal's flat error shape, `{detail, error_type}` with the type
 * repeated in `x-fal-error-type`, plus a `reason` code saying which check said no, so a first set-up
 * does not stall on a bare 403. Answers the protocol core shapes (413, 422) keep the core's body, so the
 * proxy and the mock stay identical, and carry their reason to `onRefused` only.
 */
import { FAL_HEADERS, flatErrorBody, jsonResponse } from "@kontext-sdk/schema/protocol";

/** Why the proxy answered on its own instead of relaying upstream's answer. */
export type ProxyRefusalReason =
  /** A method other than GET, POST and PUT. */
  | "method_not_allowed"
  /** The `Host` is not one this proxy serves (`allowedHosts`): DNS rebinding, or a missing setting. */
  | "host_not_allowed"
  /** `Sec-Fetch-Site` says another site made the request. */
  | "cross_site"
  /** `Origin` is neither `publicUrl`'s origin nor in `allowedOrigins` (nor the request's own, when neither is set). */
  | "origin_not_allowed"
  /** Neither `Origin` nor `Sec-Fetch-Site`: not a browser (curl, a server), or a very old one. */
  | "no_browser_headers"
  /** Your `authorize` returned false. */
  | "authorize_refused"
  /** Your `authorizeOperation` returned false. */
  | "operation_refused"
  /** `x-fal-target-url` (or the request target itself) is not a usable absolute URL. */
  | "bad_target"
  /** `x-fal-target-url` names a host the proxy does not serve. */
  | "target_not_allowed"
  /** Not one of the spec's operations on an allowed endpoint. */
  | "operation_not_allowed"
  /** A sync run, and this proxy has no sync target. */
  | "sync_disabled"
  /** A storage upload initiate, and this proxy was not created with `storage` on. */
  | "storage_not_allowed"
  /** A caller's `fal_webhook` that `allowClientWebhooks` refused. */
  | "client_webhook_refused"
  | "unsupported_media_type"
  | "body_too_large"
  | "invalid_json"
  | "json_too_deep"
  /** The input failed the endpoint's schema. */
  | "invalid_input"
  /** No credentials configured. */
  | "no_credentials"
  | "upstream_unreachable"
  | "upstream_redirect"
  | "upstream_timeout"
  | "internal_error";

const reasons = new WeakMap<Response, ProxyRefusalReason>();

/** A flat refusal with its reason code in the body and the error type in `x-fal-error-type`. */
export function refuse(
  status: number,
  errorType: string,
  reason: ProxyRefusalReason,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  const response = jsonResponse(
    status,
    { ...flatErrorBody(detail, errorType), reason },
    { ...headers, [FAL_HEADERS.errorType]: errorType },
  );
  reasons.set(response, reason);
  return response;
}

/** Marks an answer built elsewhere (the core's 413 and 422s) as a refusal for `reason`. */
export function tagRefusal(response: Response, reason: ProxyRefusalReason): Response {
  reasons.set(response, reason);
  return response;
}

/** The reason of a refusal this proxy made, or undefined for anything else (upstream's answers). */
export const refusalReason = (response: Response): ProxyRefusalReason | undefined => reasons.get(response);

export function notAllowed(method: string): Response {
  return refuse(
    403,
    "proxy_operation_not_allowed",
    "operation_not_allowed",
    `${method} on this path is not an allowed operation`,
  );
}

/** The answer to an upload initiate when the operator has not opted in to storage uploads. */
export function storageNotAllowed(): Response {
  return refuse(
    403,
    "proxy_storage_not_allowed",
    "storage_not_allowed",
    "storage uploads are not enabled on this proxy: pass `storage: true` to createKontextProxy to let browsers " +
      "start uploads (the bytes then go straight to fal's storage, never through the proxy), or set the client's " +
      "uploadThreshold to false to send images inline",
  );
}

import type { ValidationIssue } from "@kontext-sdk/schema";

/** The base of every error this package throws on purpose; `instanceof KontextError` catches them all. */
export class KontextError extends Error {
  override name = "KontextError";
}

export interface KontextApiErrorInit {
  status: number;
  body: unknown;
  requestId?: string;
  errorType?: string;
  retryable?: boolean;
}

/**
 * An HTTP answer that was not what the operation expects (non-2xx, or a body that could not be read), or
 * none at all (`KontextNetworkError`, `status: 0`).
 */
export class KontextApiError extends KontextError {
  override name = "KontextApiError";
  declare status: number;
  declare body: unknown;
  declare requestId?: string;
  declare errorType?: string;
  /** True when asking again may succeed (429/502/503/504, `x-fal-retryable: true`, a garbled body). */
  declare retryable: boolean;
  constructor(message: string, init: KontextApiErrorInit, options?: ErrorOptions) {
    super(message, options);
    Object.assign(this, { retryable: false }, init);
  }
}

/**
 * Bad input: raised before any network call when the compiled validators reject an input, and for a
 * 422 from fal (then `status` is 422 and `requestId` is set when fal sent one).
 */
export class KontextValidationError extends KontextError {
  override name = "KontextValidationError";
  declare issues: ValidationIssue[];
  declare status?: 422;
  declare requestId?: string;
  declare body?: unknown;
  constructor(
    issues: ValidationIssue[],
    { prefix = "Invalid input", ...init }: { status?: 422; requestId?: string; body?: unknown; prefix?: string } = {},
  ) {
    super(`${prefix}: ${issues.map((i) => i.message).join("; ") || "rejected"}`);
    Object.assign(this, { issues }, init);
  }
}

/** A `timeout` ran out: the whole job for `subscribe`/`run`, or one HTTP call for the client-wide `timeout`. */
export class KontextTimeoutError extends KontextError {
  override name = "KontextTimeoutError";
  declare requestId?: string;
  constructor(message: string, requestId?: string) {
    super(message);
    this.requestId = requestId;
  }
}

/**
 * No HTTP answer at all: the connection was reset or refused, DNS failed, or the body broke off (Node's
 * `TypeError: fetch failed`, a browser's `Failed to fetch`). A `KontextApiError` with `status: 0` (fetch's
 * own "no status"), so code that handles API errors by `retryable` handles these too; the original error
 * is `cause`. Always `retryable`, but a reset submit may have queued a job: the client never resends it.
 */
export class KontextNetworkError extends KontextApiError {
  override name = "KontextNetworkError";
  constructor(message: string, cause: unknown, requestId?: string) {
    super(message, { status: 0, body: undefined, requestId, retryable: true }, { cause });
  }
}

export const isKontextError = (error: unknown): error is KontextError => error instanceof KontextError;

const snippet = (text: string) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
};

/**
 * A failed (or unreadable) answer as a typed error. The body arrives as text so an HTML error page or
 * truncated JSON becomes a message with a short snippet instead of a SyntaxError.
 */
export function errorFromResponse(response: Response, what: string, text: string): KontextError {
  const h = response.headers;
  const status = response.status;
  const requestId = h.get("x-fal-request-id") ?? undefined;
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  const parsed = body !== text;
  const detail = body?.detail;
  if (status === 422) {
    return new KontextValidationError(issuesFromDetail(detail ?? snippet(text)), {
      status,
      requestId,
      body,
      prefix: `${what} rejected the input (422)`,
    });
  }
  const errorType = h.get("x-fal-error-type") ?? body?.error_type ?? undefined;
  const hint = h.get("x-fal-retryable");
  const retryable =
    hint != null
      ? /^(1|true|yes)$/i.test(hint)
      : h.get("x-fal-request-timeout-type") !== "user" && ([429, 502, 503, 504].includes(status) || (response.ok && !parsed));
  const reason = parsed
    ? typeof detail === "string"
      ? detail
      : (body?.message ?? snippet(JSON.stringify(detail ?? body)))
    : text
      ? `unreadable body: ${snippet(text)}`
      : response.statusText || "empty body";
  return new KontextApiError(`${what} failed with HTTP ${status}${errorType ? ` (${errorType})` : ""}: ${reason}`, {
    status,
    body,
    requestId,
    errorType,
    retryable,
  });
}

/** fal's 422 `detail`: an array of `{loc, msg, type, input?}`, or (tolerated) a plain string. */
export function issuesFromDetail(detail: unknown): ValidationIssue[] {
  if (!Array.isArray(detail)) {
    const message = typeof detail === "string" ? detail : "the input was rejected";
    return [{ path: "", field: "", value: undefined, rule: "server", message }];
  }
  return detail.map((item: { loc?: unknown; msg?: unknown; type?: unknown; input?: unknown }) => {
    const loc = (Array.isArray(item?.loc) ? item.loc : []).filter((p, i) => !(i === 0 && p === "body"));
    const field = loc.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${p}` : `${p}`), "");
    const msg = typeof item?.msg === "string" ? item.msg : "is invalid";
    return {
      path: loc.length ? `/${loc.join("/")}` : "",
      field,
      value: item?.input,
      rule: typeof item?.type === "string" ? item.type : "server",
      message: field ? `${field}: ${msg}` : msg,
    };
  });
}

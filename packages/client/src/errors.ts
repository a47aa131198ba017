/**
 * The client's errors. `KontextError` itself is the protocol core's class (the mocks, the contract kit and
 * the CLI throw subclasses of the same one), so `instanceof KontextError` catches anything any package
 * threw on purpose.
 *
 * Everything an error stores (message, stack, body, issues, cause) is redacted before it is stored:
 * servers echo headers, and errors end up in logs, `JSON.stringify` and `util.inspect`.
 */
import type { ValidationIssue } from "@kontext-sdk/schema";
import {
  describeErrorBody,
  errorTypeOf,
  FAL_HEADERS,
  isKontextError,
  issuesFromDetail,
  isUserTimeout,
  KontextError,
  redact,
  redactValue,
  retryableHint,
  truncate,
} from "@kontext-sdk/schema/protocol";
import { DEFAULT_RETRY } from "./retry.js";

export { isKontextError, KontextError };

/** Secrets to cut out of whatever an error stores (the resolved key, when there is one). */
export type Secrets = readonly (string | undefined)[];

/** The secrets as they stand when an error is thrown (the key the transport last resolved). */
export type SecretsOf = () => Secrets;

export interface KontextApiErrorInit {
  status: number;
  body: unknown;
  requestId?: string;
  errorType?: string;
  retryable?: boolean;
  /** The `error` a COMPLETED status carried, when the result call then failed too. */
  statusError?: string;
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
  /**
   * True when asking again may succeed: what `x-fal-retryable` says when present, else a 429/502/503/504
   * (not a user start-timeout) or a garbled body. A property of the answer, the same whatever the client's
   * `retry` option: the client's own retries follow `retry.statuses` (and the header) instead.
   */
  declare retryable: boolean;
  declare statusError?: string;
  constructor(message: string, init: KontextApiErrorInit, options?: ErrorOptions) {
    super(message, options);
    Object.assign(this, { retryable: false }, withoutUndefined(init));
  }
}

/**
 * Bad input: raised before any network call when the validators reject an input, and for a 422 from
 * fal (usually from the result call, where fal reports a job whose input the model refused); then
 * `status` is 422, `requestId` the job's and `retryable` what `X-Fal-Retryable` said.
 */
export class KontextValidationError extends KontextError {
  override name = "KontextValidationError";
  declare issues: ValidationIssue[];
  declare status?: 422;
  declare requestId?: string;
  declare body?: unknown;
  declare retryable?: boolean;
  declare statusError?: string;
  constructor(
    issues: ValidationIssue[],
    {
      prefix = "Invalid input",
      ...init
    }: { status?: 422; requestId?: string; body?: unknown; retryable?: boolean; statusError?: string; prefix?: string } = {},
  ) {
    super(`${prefix}: ${issues.map((issue) => issue.message).join("; ") || "rejected"}`);
    Object.assign(this, { issues }, withoutUndefined(init));
  }
}

/** A `timeout` ran out: the whole job for `subscribe`/`run`, or one HTTP call for the client-wide `timeout`. */
export class KontextTimeoutError extends KontextError {
  override name = "KontextTimeoutError";
  declare requestId?: string;
  constructor(message: string, requestId?: string) {
    super(message);
    if (requestId !== undefined) this.requestId = requestId;
  }
}

/** The job was cancelled with `job.cancel()`: its `result()` rejects with this. */
export class KontextCancelledError extends KontextError {
  override name = "KontextCancelledError";
  /** Set as soon as the job's id is known (a job cancelled before its submit answered gets it later). */
  declare requestId?: string;
  constructor(requestId?: string) {
    super(requestId ? `the job ${requestId} was cancelled` : "the job was cancelled");
    if (requestId !== undefined) this.requestId = requestId;
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

/**
 * fal's rule for how long it keeps a finished request (docs, queue "Get request result"), quoted by the
 * errors a 404 on a known request turns into.
 */
export const RESULT_RETENTION_RULE =
  "fal keeps a result 1 hour after the job completes, 6 minutes when the result is 10 kB or more";

/**
 * A 404 about a request id: fal does not know it (any more). `expired` is true when this client saw the job
 * COMPLETED before, so the result has outlived fal's retention; otherwise the id (or its endpoint) may be
 * wrong, or the request expired before this client looked.
 */
export class KontextRequestNotFoundError extends KontextApiError {
  override name = "KontextRequestNotFoundError";
  declare expired: boolean;
  constructor(message: string, init: KontextApiErrorInit, expired = false) {
    super(message, init);
    this.expired = expired;
  }
}

/**
 * The refusal of a call bound for another of fal's hosts (fal.run for `run()`, rest.fal.ai for storage)
 * while `baseUrl` is a custom queue host: that host is not assumed to be fal's, so a gateway's credentials
 * never travel there. The message names the option that fixes it.
 */
export function customHostRefusal(call: string, option: string, baseUrl: string | undefined, falHost: string, hint = "") {
  return new KontextError(
    `${call} needs ${option}: baseUrl is a custom queue host (${baseUrl}), so fal's host for it is not assumed and ` +
      `its credentials are not sent there. Set ${option} (your gateway's URL for it, or "${falHost}" to use fal's)${hint}.`,
  );
}

/**
 * The id an error reports: the one the call was about when there is one (a gateway may put its own id in
 * the header), else the answer's `x-fal-request-id`.
 */
export const requestIdOf = (response: Response | undefined, askedId?: string) =>
  askedId ?? response?.headers.get(FAL_HEADERS.requestId) ?? undefined;

const withoutUndefined = <T extends object>(fields: T) =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;

// fal's 403 on billable calls when the account cannot pay: `{"detail":"User is locked. Reason: …"}`
// (fal-ai/fal issues #1147, #1112, #1162, #1168). It deserves a message that says what to do.
const LOCKED = /^\s*User is locked\.?\s*(?:Reason:\s*)?(.*)$/is;

/** How the call that failed is described in messages, e.g. `GET /fal-ai/flux-pro/requests/abc`. */
export interface FailedCall {
  what: string;
  /** The request id the call was about (status, result, cancel): it wins over the answer's header. */
  requestId?: string;
  secrets: Secrets;
}

/**
 * A failed (or unreadable) answer as a typed error. The body arrives as text so an HTML error page or
 * truncated JSON becomes a message with a short snippet instead of a SyntaxError. The text is redacted
 * before it is parsed, cut or stored, and the parsed body once more (a key escaped inside JSON).
 */
export function errorFromResponse(response: Response, call: FailedCall, rawText: string): KontextError {
  const { headers, status } = response;
  const text = redact(rawText, call.secrets);
  let body: unknown = text;
  let parsed = false;
  try {
    body = redactValue(JSON.parse(text), call.secrets);
    parsed = true;
  } catch {}
  const requestId = requestIdOf(response, call.requestId);
  const hint = retryableHint(headers.get(FAL_HEADERS.retryable));
  const detail = parsed ? (body as { detail?: unknown } | null)?.detail : undefined;
  if (status === 422) {
    return new KontextValidationError(issuesFromDetail(detail ?? truncate(text, 120)), {
      status,
      requestId,
      body,
      retryable: hint ?? false,
      prefix: `${call.what} rejected the input (422)`,
    });
  }
  const errorType = errorTypeOf(parsed ? body : undefined, headers);
  const retryable = hint ?? (!isUserTimeout(headers) && (DEFAULT_RETRY.statuses.includes(status) || (response.ok && !parsed)));
  const locked = status === 403 && typeof detail === "string" ? LOCKED.exec(detail) : null;
  if (locked) {
    const reason = truncate(locked[1] ?? "", 120).replace(/\.+$/, "");
    const because = reason ? ` (${reason})` : "";
    const message = `${call.what}: fal refused the call: the account is locked${because}. Top up or unlock it at fal.ai, then retry.`;
    return new KontextApiError(message, { status, body, requestId, errorType, retryable: false });
  }
  if (status === 404 && call.requestId) {
    const message = `${call.what}: fal does not know request ${call.requestId} (404). Either it expired (${RESULT_RETENTION_RULE}) or the id or its endpoint is wrong.`;
    return new KontextRequestNotFoundError(message, { status, body, requestId, errorType, retryable: false });
  }
  const reason = parsed
    ? describeErrorBody(body, 200) || truncate(JSON.stringify(body) ?? "", 120)
    : text
      ? `unreadable body: ${truncate(text, 120)}`
      : response.statusText || "empty body";
  return new KontextApiError(`${call.what} failed with HTTP ${status}${errorType ? ` (${errorType})` : ""}: ${reason}`, {
    status,
    body,
    requestId,
    errorType,
    retryable,
  });
}

/**
 * Belt and braces for errors made elsewhere (a fetch's own `TypeError` mentioning a header, an error
 * thrown by an injected fetch): every string an error carries, its `cause` chain included, redacted in
 * place. Errors this module made are clean already; this catches the rest.
 */
export function redactError<T>(error: T, secrets: Secrets, depth = 0): T {
  if (!secrets.some(Boolean) || !(error instanceof Error) || depth > 8) return error;
  const fields = error as unknown as Record<string, unknown>;
  for (const key of ["message", "stack", "body", "issues", "statusError"]) {
    const value = fields[key];
    if (value === undefined) continue;
    try {
      fields[key] = redactValue(value, secrets);
    } catch {
      // A frozen or accessor-only field: it stays as it is, and so does the rest of this error.
    }
  }
  if (error.cause !== undefined) redactError(error.cause, secrets, depth + 1);
  return error;
}

/**
 * The rule for errors built AFTER the transport handed an answer back (a 2xx of the wrong shape, a status
 * event, a storage or part answer): the transport redacts only what it throws itself, and these carry
 * the answer as their body, so a server echoing the Authorization header would put the key there. Each
 * module that builds such errors (the queue calls, submit, storage) passes whatever leaves it through
 * here, once at its exit rather than at each `throw`, so a check added later is covered too.
 */
export async function redactingErrors<T>(secrets: SecretsOf, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw redactError(error, secrets());
  }
}

/** `redactingErrors` for a generator (the status stream): what it throws mid-way is redacted too. */
export async function* redactingStream<T, R>(secrets: SecretsOf, work: AsyncGenerator<T, R>): AsyncGenerator<T, R> {
  try {
    return yield* work;
  } catch (error) {
    throw redactError(error, secrets());
  }
}

/**
 * Exit codes and the one-line descriptions of failures. Every message a person sees about a
 * failure goes through `describeError` and then `redact`, so a credential can never reach a
 * terminal or a CI log even if some layer below put it into an error.
 */

export const EXIT = {
  ok: 0,
  /** The job, the network or the API failed. */
  failure: 1,
  /** The command line was wrong; nothing was sent. */
  usage: 2,
  /** Ctrl-C (128 + SIGINT), the shell convention. */
  interrupted: 130,
} as const;

/** A mistake on the command line. Raised before anything is sent, so exit code 2 means "nothing happened". */
export class UsageError extends Error {
  override name = "UsageError";
  /** Extra lines after the message (one per validation issue, for example). */
  readonly details: string[];
  constructor(message: string, details: string[] = []) {
    super(message);
    this.details = details;
  }
}

/** Raised into a running job when the person pressed Ctrl-C. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
  constructor() {
    super("interrupted");
  }
}

/** Replaces every occurrence of a secret (and its URL-encoded form) with `***`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would blank out ordinary words; real keys are long.
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join("***");
  }
  return out;
}

interface ApiErrorLike {
  name?: string;
  message?: string;
  status?: number;
  errorType?: string;
  requestId?: string;
  body?: unknown;
  issues?: { message: string }[];
  cause?: unknown;
}

/**
 * One readable line for any failure: HTTP status, fal's error type and the request id when the
 * error carries them, the server's own words otherwise. Errors come from `@kontext-sdk/client`,
 * recognised by their shape so this module stays independent of its class identities.
 */
export function describeError(error: unknown): string {
  if (typeof error !== "object" || error === null) return oneLine(String(error));
  const e = error as ApiErrorLike;
  const parts: string[] = [];
  if (e.name === "KontextTimeoutError") {
    parts.push(`timed out${e.requestId ? ` waiting for request ${e.requestId}` : ""}`);
  } else if (e.name === "KontextNetworkError") {
    // The client's transport failure: its message already names the request and the socket error.
    parts.push(`network error: ${e.message}`);
  } else if (typeof e.status === "number") {
    const detail = e.issues?.length ? e.issues.map((i) => i.message).join("; ") : bodyDetail(e.body) || e.message || "";
    const head = e.status === 422 ? "the API rejected the input" : "API error";
    parts.push(`${head}: HTTP ${e.status}${e.errorType ? ` ${e.errorType}` : ""}${detail ? ` - ${detail}` : ""}`);
  } else if (isNetworkError(e)) {
    parts.push(`network error: ${networkDetail(e)}`);
  } else {
    parts.push(e.message || e.name || "unknown error");
  }
  if (e.requestId && e.name !== "KontextTimeoutError") parts.push(`(request ${e.requestId})`);
  return oneLine(parts.join(" "));
}

/** fal's error bodies: `{detail: "..."}`, `{detail: [{loc, msg}]}`, or something else entirely. */
function bodyDetail(body: unknown): string {
  if (typeof body === "string") return body.trimStart().startsWith("<") ? "" : body;
  if (typeof body !== "object" || body === null) return "";
  const b = body as Record<string, unknown>;
  if (typeof b.detail === "string") return b.detail;
  if (Array.isArray(b.detail)) {
    return b.detail
      .map((item) => {
        const i = item as { loc?: unknown[]; msg?: string };
        const loc = Array.isArray(i.loc) ? i.loc.filter((p) => p !== "body").join(".") : "";
        return loc ? `${loc}: ${i.msg ?? ""}` : (i.msg ?? "");
      })
      .join("; ");
  }
  for (const key of ["error", "message"]) if (typeof b[key] === "string") return b[key] as string;
  return "";
}

function isNetworkError(e: ApiErrorLike): boolean {
  // undici's fetch rejects with TypeError("fetch failed") and the socket error as the cause.
  return e.name === "TypeError" && typeof e.cause === "object" && e.cause !== null;
}

function networkDetail(e: ApiErrorLike): string {
  const cause = e.cause as { code?: string; message?: string; cause?: unknown };
  if (cause.code && cause.message) return cause.message.includes(cause.code) ? cause.message : `${cause.code} ${cause.message}`;
  return cause.message || e.message || "request failed";
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 400 ? `${flat.slice(0, 397)}...` : flat;
}

/** True when an error is the rejection of an aborted operation. */
export function isAbort(error: unknown): boolean {
  return (
    error instanceof InterruptedError ||
    (typeof error === "object" && error !== null && (error as { name?: string }).name === "AbortError")
  );
}

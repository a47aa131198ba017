/**
 * Exit codes and the one-line descriptions of failures. Every message a person sees goes through
 * `describeError`, which redacts before it cuts the line, and then the core's `redact` again (in the
 * output streams, see io.ts), so a credential can never reach a terminal or a CI log even if some
 * layer below put it into an error.
 */
import { describeErrorBody, escapeControl, KontextError, truncate } from "@kontext-sdk/schema/protocol";

export const EXIT = {
  ok: 0,
  /** The job, the network or the API failed. */
  failure: 1,
  /** The input was refused: by the CLI before anything was sent, or by fal (a 422, at submit or at the result). */
  usage: 2,
  /**
   * `result --no-wait` found the job still queued or running: try again later (sysexits' EX_TEMPFAIL,
   * so a polling script can tell "not yet" from "failed").
   */
  notYet: 75,
  /** Ctrl-C (128 + SIGINT), the shell convention. */
  interrupted: 130,
} as const;

/** A mistake on the command line. Raised before anything is sent, so exit code 2 means "nothing happened". */
export class UsageError extends KontextError {
  override name = "UsageError";
  /** Extra lines after the message (one per validation issue, for example). */
  readonly details: string[];
  constructor(message: string, details: string[] = []) {
    super(message);
    this.details = details;
  }
}

/** Raised into a running job when the person pressed Ctrl-C. */
export class InterruptedError extends KontextError {
  override name = "InterruptedError";
  constructor() {
    super("interrupted");
  }
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

/** What the CLI knows about where a failed call went, for messages that name the host. */
export interface ErrorContext {
  /** `host:port` of the server the commands talk to (the queue host, the mock, a gateway). */
  host?: string;
  /**
   * Blanks the known secrets. Applied before the line is cut: a key straddling the cut would leave a
   * fragment that the redacting output stream could no longer recognise.
   */
  redact?: ((text: string) => string) | undefined;
}

/**
 * One readable line for any failure: HTTP status, fal's error type and the request id when the
 * error carries them, the server's own words otherwise. Errors come from `@kontext-sdk/client`,
 * recognised by their shape so this module stays independent of its class identities.
 */
export function describeError(error: unknown, context: ErrorContext = {}): string {
  if (typeof error !== "object" || error === null) return oneLine(String(error), context);
  const e = error as ApiErrorLike;
  const parts: string[] = [];
  if (e.name === "KontextTimeoutError") {
    parts.push(`timed out${e.requestId ? ` waiting for request ${e.requestId}` : ""}`);
  } else if (e.name === "KontextNetworkError" || isNetworkError(e)) {
    parts.push(networkLine(e, context));
  } else if (e.name === "KontextValidationError") {
    // fal's own words per field; the status says whether fal (422) or the client (none) refused it.
    const detail = e.issues?.length ? e.issues.map((i) => i.message).join("; ") : bodyText(e.body, context) || e.message;
    parts.push(`${e.status ? `the API rejected the input (HTTP ${e.status})` : "invalid input"}: ${detail ?? ""}`);
  } else if (e.name === "KontextRequestNotFoundError") {
    // The client's message names the request and fal's retention rule (an old result expires); the
    // call it was (`GET /…/status: `) adds nothing for a person.
    parts.push((e.message ?? "").replace(/^\S+ \S+: /, ""));
  } else if (typeof e.status === "number") {
    const detail = e.issues?.length ? e.issues.map((i) => i.message).join("; ") : bodyText(e.body, context) || e.message || "";
    parts.push(`API error: HTTP ${e.status}${e.errorType ? ` ${e.errorType}` : ""}${detail ? ` - ${detail}` : ""}`);
  } else {
    parts.push(e.message || e.name || "unknown error");
  }
  if (e.requestId && e.name !== "KontextTimeoutError" && e.name !== "KontextRequestNotFoundError") {
    parts.push(`(request ${e.requestId})`);
  }
  return oneLine(parts.join(" "), context);
}

/**
 * Redacted, then cut, then escaped: servers choose much of this text, so no key they echo survives in
 * part and no terminal escape of theirs reaches the screen.
 */
function oneLine(text: string, context: ErrorContext): string {
  const redacted = context.redact ? context.redact(text) : text;
  return escapeControl(truncate(redacted, MAX_LINE));
}

/** The server's words from an error body, redacted before `describeErrorBody` cuts them to length. */
function bodyText(body: unknown, context: ErrorContext): string {
  return describeErrorBody(context.redact ? redactStrings(body, context.redact, 0) : body);
}

/** A copy of a JSON-like value with `redact` applied to every string in it. */
function redactStrings(value: unknown, redact: (text: string) => string, depth: number): unknown {
  if (typeof value === "string") return redact(value);
  if (depth > 16 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, redact, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item, redact, depth + 1)]));
}

/** Long enough for a few field errors, short enough to stay one line in a CI log. */
const MAX_LINE = 400;

/**
 * A transport failure, naming where the CLI tried to go: `network error: cannot reach
 * 127.0.0.1:4010 (ECONNREFUSED) - POST /fal-ai/flux-pro/kontext/text-to-image`.
 */
function networkLine(e: ApiErrorLike, context: ErrorContext): string {
  const socket = socketOf(e);
  const code = socket.code ?? /\(([A-Z_]+)\)/.exec(e.message ?? "")?.[1];
  const host = socket.address ? `${socket.address}${socket.port ? `:${socket.port}` : ""}` : context.host;
  // The client's message is `<METHOD> <path>: <reason>`; keep the call, drop undici's "fetch failed".
  const call = e.name === "KontextNetworkError" ? /^(\S+ \S+?):/.exec(e.message ?? "")?.[1] : undefined;
  const where = host ? `cannot reach ${host}` : "cannot reach the server";
  const why = code ?? (socket.message || "connection failed");
  return `network error: ${where} (${why})${call ? ` - ${call}` : ""}`;
}

/** The innermost socket error (undici: TypeError("fetch failed") → cause {code, address, port}). */
function socketOf(e: ApiErrorLike): { code?: string; address?: string; port?: number; message?: string } {
  let current: unknown = e.cause;
  let found: { code?: string; address?: string; port?: number; message?: string } = {};
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const layer = current as { code?: unknown; address?: unknown; port?: unknown; message?: unknown; cause?: unknown };
    if (typeof layer.code === "string") {
      found = {
        code: layer.code,
        ...(typeof layer.address === "string" ? { address: layer.address } : {}),
        ...(typeof layer.port === "number" ? { port: layer.port } : {}),
        ...(typeof layer.message === "string" ? { message: layer.message } : {}),
      };
    }
    current = layer.cause;
  }
  return found;
}

function isNetworkError(e: ApiErrorLike): boolean {
  // undici's fetch rejects with TypeError("fetch failed") and the socket error as the cause.
  return e.name === "TypeError" && typeof e.cause === "object" && e.cause !== null;
}

/** True for a refusal of the input (the client's own check, or fal's 422 at submit or at the result). */
export function isInputError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "KontextValidationError";
}

/** True when an error is the rejection of an aborted operation. */
export function isAbort(error: unknown): boolean {
  return (
    error instanceof InterruptedError ||
    (typeof error === "object" && error !== null && (error as { name?: string }).name === "AbortError")
  );
}

/** An image that could not be fetched or written after the job finished. */
export class OutputError extends KontextError {
  override name = "OutputError";
}

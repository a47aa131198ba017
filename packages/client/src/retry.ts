import { parseRetryAfter } from "@kontext-sdk/schema/protocol";

/** How failed HTTP calls are retried. Every field has a default; `retry: false` turns retries off. */
export interface RetryOptions {
  /** Retries after the first try. Default 3. */
  maxRetries: number;
  /** First backoff in ms; doubles each retry. Default 500. */
  baseDelay: number;
  /** Cap on one wait in ms, `Retry-After` included. Default 15000. */
  maxDelay: number;
  /**
   * HTTP statuses worth another try: this list alone, so it narrows the default as well as widening it;
   * fal's `x-fal-retryable` header, when present, decides instead. Default 429, 502, 503, 504.
   */
  statuses: number[];
}

export const DEFAULT_RETRY: RetryOptions = { maxRetries: 3, baseDelay: 500, maxDelay: 15_000, statuses: [429, 502, 503, 504] };

/**
 * The wait before retry number `attempt` (0-based): exponential, with "equal jitter" (half fixed, half
 * random) so a burst of clients that failed together does not come back together, and never shorter
 * than the server's `Retry-After` (seconds or an HTTP date), all capped at `maxDelay`.
 */
export function retryDelay(options: RetryOptions, attempt: number, retryAfter?: string | null): number {
  const exp = Math.min(options.maxDelay, options.baseDelay * 2 ** attempt);
  let wait = exp / 2 + (Math.random() * exp) / 2;
  const serverWait = parseRetryAfter(retryAfter);
  if (serverWait !== undefined && serverWait > wait) wait = serverWait;
  return Math.min(wait, options.maxDelay);
}

/**
 * The error code (`ECONNRESET`, `ECONNREFUSED`, ...) in an error's `cause` chain, where Node's fetch puts it
 * under `TypeError: fetch failed`; an AggregateError (several addresses tried) counts when all its errors
 * agree. Browsers give no code.
 */
export function errorCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== "object" || depth > 8) return undefined;
  const failure = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof failure.code === "string") return failure.code;
  if (Array.isArray(failure.errors)) {
    const codes = new Set(failure.errors.map((inner) => errorCode(inner, depth + 1)));
    const [only] = codes;
    if (codes.size === 1 && only) return only;
  }
  return errorCode(failure.cause, depth + 1);
}

/**
 * True only when the connection was refused, i.e. the request provably never reached a server. This is
 * the one transport error after which a submit may be sent again without risking a second job; browsers
 * do not say, so they never retry a submit.
 */
export const isConnectionRefused = (error: unknown) => errorCode(error) === "ECONNREFUSED";

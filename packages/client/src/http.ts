/**
 * The transport: the one fetch everything goes through, with auth, proxying, a per-call timeout, a
 * size cap on what is read, and the retry loop. Every error it throws is typed and redacted.
 */
import { FAL_HEADERS, isUserTimeout, originOf, readCapped, retryableHint, sleep } from "@kontext-sdk/schema/protocol";
import { isBrowser, keyResolver } from "./credentials.js";
import {
  errorFromResponse,
  KontextApiError,
  KontextNetworkError,
  KontextTimeoutError,
  redactError,
  requestIdOf,
} from "./errors.js";
import { DEFAULT_RETRY, errorCode, isConnectionRefused, type RetryOptions, retryDelay } from "./retry.js";
import { linkedSignal, whenAborted } from "./signals.js";
import type { KontextClientOptions } from "./types.js";

/** The default `maxResponseBytes`: 64 MiB. Four PNGs returned as `sync_mode` data URIs fit several times over. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface Call {
  method: string;
  /** The absolute target URL (the proxy, if any, is applied here, not by callers). */
  url: string;
  body?: string;
  headers?: HeadersInit;
  signal?: AbortSignal;
  /**
   * A call that must not run twice (submit, sync run): retried only when the connection was refused,
   * i.e. the request provably never reached a server. Everything else here is idempotent.
   */
  once?: boolean;
  /** The request id the call is about: errors report it, whatever id the answer's header says. */
  requestId?: string;
}

/**
 * `json`: a 2xx answer's parsed body, or a typed error. `stream`: the 2xx response, its body unread.
 * `raw`: whatever answer is final after retries (openapi-fetch reads errors itself).
 */
export type Mode = "json" | "stream" | "raw";

export type Send = (call: Call, mode?: Mode) => Promise<[data: unknown, response: Response]>;

/** What one attempt came to: an answer to hand back, or a failure to retry or throw. */
type Attempt = { done: [data: unknown, response: Response] } | { failure: unknown; response?: Response; text?: string };

/** The transport's settings, read once from the client's options. */
export interface Transport {
  send: Send;
  /** The key as it stands now (for redacting errors made outside the transport). */
  currentKey: () => string | undefined;
  maxResponseBytes: number;
}

/**
 * Auth, proxying, per-call timeout and the retry loop, around the one fetch everything goes through.
 * The steps that take their inputs as arguments live below (`headersFor`, `shouldRetry`); what stays here
 * is `attempt` (one try) and `send` (the loop), a closure over the options read once (fetch, timeout,
 * proxy, retry policy, size cap) and the key last resolved, which `currentKey` hands out.
 */
export function createTransport(options: KontextClientOptions, hosts: string[]): Transport {
  const trusted = hosts.map(originOf);
  // Behind a proxy (or in a page) the key lives on a server: nothing is attached unless given explicitly.
  const resolveKey = keyResolver(options.credentials, !options.proxyUrl && !isBrowser());
  const retry: RetryOptions | false = options.retry !== false && { ...DEFAULT_RETRY, ...options.retry };
  const fetcher = options.fetch ?? ((...args) => globalThis.fetch(...args));
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let lastKey: string | undefined;

  /** One try: fetch, then read the answer (capped) unless the caller takes the body itself. */
  async function attempt(call: Call, mode: Mode, headers: Headers, what: string, secrets: string[]): Promise<Attempt> {
    if (call.signal?.aborted) throw call.signal.reason;
    // Nothing can abort a call with neither a caller's signal nor a timeout, so it gets no controller and
    // no races: the common status poll stays close to a bare fetch (see the bench's call overhead).
    const timeout = options.timeout ?? 0;
    const linked =
      call.signal || timeout > 0
        ? linkedSignal(call.signal, timeout, () => new KontextTimeoutError(`${what} timed out after ${timeout} ms`))
        : undefined;
    const signal = linked?.signal;
    // An injected fetch (a test double, a mock) may ignore its signal; racing it keeps aborts prompt anyway.
    const aborted = signal && whenAborted(signal);
    const race = <T>(work: Promise<T>) => (aborted ? Promise.race([work, aborted]) : work);
    const target = headers.has(FAL_HEADERS.targetUrl) ? (options.proxyUrl as string) : call.url;
    let response: Response | undefined;
    try {
      response = await race(fetcher(target, { method: call.method, headers, body: call.body, signal }));
      if (response.ok ? mode !== "json" : mode === "raw" && !retryableAnswer(retry, response))
        return { done: [undefined, response] };
      const text = await race(readTextCapped(response, maxResponseBytes, { what, requestId: call.requestId }));
      if (response.ok) {
        try {
          return { done: [text ? JSON.parse(text) : undefined, response] };
        } catch {}
      }
      return { failure: errorFromResponse(response, { what, requestId: call.requestId, secrets }, text), response, text };
    } catch (error) {
      if (call.signal?.aborted) throw call.signal.reason;
      if (isTooLarge(error)) return { failure: error, response };
      if (signal?.reason instanceof KontextTimeoutError) return { failure: signal.reason, response };
      // Anything else below HTTP (reset, refused, DNS, a body cut short), typed; its text may quote a header.
      const cause = redactError(error, secrets);
      const failure = new KontextNetworkError(`${what}: ${networkReason(cause)}`, cause, requestIdOf(response, call.requestId));
      return { failure, response };
    } finally {
      linked?.release();
    }
  }

  const send: Send = async (call, mode = "json") => {
    const key = await resolveKey();
    lastKey = key;
    const secrets = key ? [key] : [];
    const headers = headersFor(options, trusted, call, mode, key);
    const what = `${call.method} ${call.url.replace(/^\w+:\/\/[^/]+|\?.*$/g, "")}`;
    for (let attemptNumber = 0; ; attemptNumber++) {
      const outcome = await attempt(call, mode, headers, what, secrets);
      if ("done" in outcome) return outcome.done;
      if (!retry || attemptNumber >= retry.maxRetries || !shouldRetry(retry, call, outcome)) {
        if (mode === "raw" && outcome.response && outcome.text !== undefined)
          return [undefined, new Response(outcome.text, outcome.response)];
        throw redactError(outcome.failure, secrets);
      }
      await sleep(retryDelay(retry, attemptNumber, outcome.response?.headers.get("retry-after")), call.signal);
    }
  };
  return { send, currentKey: () => lastKey, maxResponseBytes };
}

/** A call's headers: the client's, then the call's, the defaults, the key (trusted hosts only) and the proxy's target. */
function headersFor(
  options: KontextClientOptions,
  trusted: (string | undefined)[],
  call: Call,
  mode: Mode,
  key: string | undefined,
): Headers {
  const headers = new Headers(options.headers);
  for (const [name, value] of new Headers(call.headers)) headers.set(name, value);
  if (!headers.has("accept")) headers.set("accept", mode === "stream" ? "text/event-stream" : "application/json");
  if (call.body != null && !headers.has("content-type")) headers.set("content-type", "application/json");
  // Credentials only for the configured hosts: a URL from anywhere else never sees them.
  if (key && trusted.includes(originOf(call.url))) headers.set("authorization", `${options.authScheme ?? "Key"} ${key}`);
  if (options.proxyUrl && !call.url.startsWith(options.proxyUrl)) {
    // fal's proxy protocol (what @fal-ai/client's proxyUrl does): same method and body, sent to the
    // proxy, with the real URL in a header; the proxy adds the server-side key.
    headers.set(FAL_HEADERS.targetUrl, call.url);
  }
  return headers;
}

/**
 * Whether a failed HTTP answer is worth another try: fal's `x-fal-retryable` when it says (true or false,
 * whatever the status), otherwise a status in the user's `retry.statuses`, never a user start-timeout
 * (asking again cannot start the job sooner). Only the options decide: the error's own `retryable` is a
 * hint from the built-in list, so it would stop `statuses` narrowing that list.
 */
function retryableAnswer(retry: RetryOptions | false, response: Response): boolean {
  if (!retry) return false;
  const hint = retryableHint(response.headers.get(FAL_HEADERS.retryable));
  if (hint !== undefined) return hint;
  return retry.statuses.includes(response.status) && !isUserTimeout(response.headers);
}

/** Whether to try again after `failed`: idempotent calls on anything retryable, `once` calls only provably unsent. */
function shouldRetry(retry: RetryOptions | false, call: Call, failed: Exclude<Attempt, { done: unknown }>): boolean {
  const { failure, response } = failed;
  const answer = failure instanceof KontextApiError && !isTooLarge(failure) && retryableFailure(retry, failure, response);
  // A 429 means the server did not take the request, so even a submit can be sent again.
  return call.once
    ? isConnectionRefused(failure) || (answer && response?.status === 429)
    : answer || failure instanceof KontextTimeoutError;
}

/**
 * Whether a failure short of the size cap may be retried: no answer at all (a network error) always; a
 * garbled 2xx as its error says; any other answer by `retryableAnswer`.
 */
function retryableFailure(retry: RetryOptions | false, failure: KontextApiError, response: Response | undefined): boolean {
  if (failure instanceof KontextNetworkError) return true;
  if (!response) return failure.retryable;
  return response.ok ? failure.retryable : retryableAnswer(retry, response);
}

/** The `errorType` of an answer over `maxResponseBytes`. */
export const RESPONSE_TOO_LARGE = "response_too_large";

const isTooLarge = (error: unknown) => error instanceof KontextApiError && error.errorType === RESPONSE_TOO_LARGE;

/** The error for an answer larger than the cap (its `status` is the answer's); nothing past the cap was read. */
export function tooLarge(what: string, limit: number, status: number, requestId?: string): KontextApiError {
  return new KontextApiError(`${what}: the answer is larger than ${limit} bytes (maxResponseBytes); reading stopped there`, {
    status,
    body: undefined,
    requestId,
    errorType: RESPONSE_TOO_LARGE,
    retryable: false,
  });
}

/**
 * The body as text, refusing (without reading further) an answer whose declared or actual size passes
 * `limit`: a hostile or broken server must not make the client buffer hundreds of megabytes.
 */
export async function readTextCapped(
  response: Response,
  limit: number,
  about: { what: string; requestId?: string },
): Promise<string> {
  const read = await readCapped(response.body, limit, response.headers.get("content-length"));
  if (!read.ok) throw tooLarge(about.what, limit, response.status, requestIdOf(response, about.requestId));
  return new TextDecoder().decode(read.bytes);
}

/** `fetch failed (ECONNRESET)`: the error's message, with the code from its cause chain when there is one. */
function networkReason(error: unknown): string {
  const code = errorCode(error);
  return `${error instanceof Error ? error.message : error}${code ? ` (${code})` : ""}`;
}

import type { KontextClientOptions } from "./client.js";
import { envCredentials, isBrowser, resolveCredentials } from "./credentials.js";
import { errorFromResponse, KontextApiError, KontextNetworkError, KontextTimeoutError } from "./errors.js";
import { DEFAULT_RETRY, errorCode, isConnectionRefused, retryDelay, sleep } from "./retry.js";
import { linkedSignal, whenAborted } from "./signals.js";
import { originOf } from "./urls.js";

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
}

/**
 * `json`: a 2xx answer's parsed body, or a typed error. `stream`: the 2xx response, its body unread.
 * `raw`: whatever answer is final after retries (openapi-fetch reads errors itself).
 */
export type Mode = "json" | "stream" | "raw";

export type Send = (call: Call, mode?: Mode) => Promise<[data: unknown, response: Response]>;

/** Auth, proxying, per-call timeout and the retry loop, around the one fetch everything goes through. */
export function createTransport(o: KontextClientOptions, hosts: string[]): Send {
  const trusted = hosts.map(originOf);
  // Behind a proxy (or in a page) the key lives on a server: nothing is attached unless given explicitly.
  const credentials = o.credentials ?? (o.proxyUrl || isBrowser() ? undefined : envCredentials);
  const retry = o.retry !== false && { ...DEFAULT_RETRY, ...o.retry };
  const fetcher = o.fetch ?? ((...args) => globalThis.fetch(...args));
  return async (call, mode = "json") => {
    const key = await resolveCredentials(credentials);
    const headers = new Headers(o.headers);
    for (const [k, v] of new Headers(call.headers)) headers.set(k, v);
    if (!headers.has("accept")) headers.set("accept", mode === "stream" ? "text/event-stream" : "application/json");
    if (call.body != null && !headers.has("content-type")) headers.set("content-type", "application/json");
    // Credentials only for the configured hosts: a URL from anywhere else never sees them.
    if (key && trusted.includes(originOf(call.url))) headers.set("authorization", `${o.authScheme ?? "Key"} ${key}`);
    let target = call.url;
    if (o.proxyUrl && !target.startsWith(o.proxyUrl)) {
      // fal's proxy protocol (what @fal-ai/client's proxyUrl does): same method and body, sent to the
      // proxy, with the real URL in a header; the proxy adds the server-side key.
      headers.set("x-fal-target-url", target);
      target = o.proxyUrl;
    }
    const what = `${call.method} ${call.url.replace(/^\w+:\/\/[^/]+|\?.*$/g, "")}`;
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      let response: Response | undefined;
      let text: string | undefined;
      if (call.signal?.aborted) throw call.signal.reason;
      // Nothing can abort a call with neither a caller's signal nor a timeout, so it gets no controller and
      // no races: the common status poll stays close to a bare fetch (see the bench's call overhead).
      const linked =
        call.signal || o.timeout! > 0
          ? linkedSignal(call.signal, o.timeout, () => new KontextTimeoutError(`${what} timed out after ${o.timeout} ms`))
          : undefined;
      const signal = linked?.signal;
      // An injected fetch (a test double, a mock) may ignore its signal; racing it keeps aborts prompt anyway.
      const aborted = signal && whenAborted(signal);
      const race = <T>(p: Promise<T>) => (aborted ? Promise.race([p, aborted]) : p);
      try {
        response = await race(fetcher(target, { method: call.method, headers, body: call.body, signal }));
        if (response.ok ? mode !== "json" : mode === "raw" && !retryableStatus(response)) return [undefined, response];
        text = await race(response.text());
        if (response.ok) {
          try {
            return [text ? JSON.parse(text) : undefined, response];
          } catch {}
        }
        failure = errorFromResponse(response, what, text);
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason;
        // Our own timeout as it is; anything else below HTTP (reset, refused, DNS, a body cut short) typed.
        failure =
          signal?.reason instanceof KontextTimeoutError
            ? signal.reason
            : new KontextNetworkError(
                `${what}: ${networkReason(error)}`,
                error,
                response?.headers.get("x-fal-request-id") ?? undefined,
              );
      } finally {
        linked?.release();
      }
      // KontextNetworkError included (always retryable).
      const answer = failure instanceof KontextApiError && (failure.retryable || retryableStatus(response!));
      // A 429 means the server did not take the request, so even a submit can be sent again.
      const again = call.once
        ? isConnectionRefused(failure) || (answer && response?.status === 429)
        : answer || failure instanceof KontextTimeoutError;
      if (!retry || attempt >= retry.maxRetries || !again) {
        if (mode === "raw" && response) return [undefined, new Response(text, response)];
        throw redact(failure, key);
      }
      await sleep(retryDelay(retry, attempt, response?.headers.get("retry-after")), call.signal);
    }
  };

  /** A status the retry options list, unless fal says otherwise (`x-fal-retryable`, a user start-timeout). */
  function retryableStatus(r: Response) {
    return (
      !!retry &&
      retry.statuses.includes(r.status) &&
      r.headers.get("x-fal-retryable") == null &&
      r.headers.get("x-fal-request-timeout-type") !== "user"
    );
  }
}

/** `fetch failed (ECONNRESET)`: the error's message, with the code from its cause chain when there is one. */
function networkReason(error: unknown): string {
  const code = errorCode(error);
  return `${error instanceof Error ? error.message : error}${code ? ` (${code})` : ""}`;
}

/** Belt and braces: whatever a server echoes back, the key (or its secret half) is cut from messages. */
function redact(error: unknown, key: string | undefined): unknown {
  if (key && error instanceof Error) {
    for (const part of [key, key.split(":")[1]]) {
      if (part && part.length >= 6) error.message = error.message.split(part).join("***");
    }
  }
  return error;
}

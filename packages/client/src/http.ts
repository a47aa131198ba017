import { type Credentials, resolveCredentials } from "./credentials.js";
import { errorFromResponse, KontextApiError, KontextError, KontextTimeoutError } from "./errors.js";
import { isConnectionRefused, type RetryOptions, retryDelay, sleep } from "./retry.js";
import { originOf } from "./urls.js";

export interface TransportOptions {
  credentials?: Credentials;
  authScheme: "Key" | "Bearer";
  proxyUrl?: string;
  fetch: typeof fetch;
  retry: RetryOptions | false;
  timeout?: number;
  headers?: Record<string, string>;
  /** Origins that may receive the credentials: the configured queue and sync hosts, nothing else. */
  trusted: (string | undefined)[];
}

export interface Call {
  method: string;
  /** The absolute target URL (the proxy, if any, is applied here, not by callers). */
  url: string;
  body?: BodyInit | null;
  headers?: Record<string, string> | Headers;
  signal?: AbortSignal;
  /**
   * A call that must not run twice (submit, sync run): retried only when the connection was refused,
   * i.e. the request provably never reached a server. Everything else here is idempotent.
   */
  once?: boolean;
  /** How messages name the operation, e.g. `submit to fal-ai/flux-pro/kontext`. */
  what: string;
}

/**
 * `json`: a 2xx answer's parsed body, or a typed error. `stream`: the 2xx response, its body unread.
 * `raw`: whatever answer is final after retries (openapi-fetch reads errors itself).
 */
export type Mode = "json" | "stream" | "raw";

export type Send = (call: Call, mode?: Mode) => Promise<{ response: Response; data?: unknown }>;

export function createTransport(o: TransportOptions): Send {
  const trusted = new Set(o.trusted.map(originOf));
  return async (call, mode = "json") => {
    const key = await resolveCredentials(o.credentials);
    const headers = new Headers(o.headers);
    for (const [k, v] of new Headers(call.headers)) headers.set(k, v);
    if (!headers.has("accept")) headers.set("accept", mode === "stream" ? "text/event-stream" : "application/json");
    if (call.body != null && !headers.has("content-type")) headers.set("content-type", "application/json");
    // Credentials only for the configured hosts: a URL from anywhere else never sees them.
    if (key && trusted.has(originOf(call.url))) headers.set("authorization", `${o.authScheme} ${key}`);
    let target = call.url;
    if (o.proxyUrl && !call.url.startsWith(o.proxyUrl)) {
      // fal's proxy protocol (what @fal-ai/client's proxyUrl does): same method and body, sent to the
      // proxy, with the real URL in a header; the proxy adds the server-side key.
      headers.set("x-fal-target-url", call.url);
      target = o.proxyUrl;
    }
    const retry = o.retry;
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      let retryAfter: string | null = null;
      let userTimeout = false;
      let hint: string | null = null;
      const ctl = new AbortController();
      // An injected fetch (a test double, a mock) may ignore its signal; racing it keeps aborts prompt anyway.
      const aborted = new Promise<never>((_, reject) =>
        ctl.signal.addEventListener("abort", () => reject(ctl.signal.reason), { once: true }),
      );
      aborted.catch(() => {});
      const race = <T>(p: Promise<T>) => Promise.race([p, aborted]);
      const onAbort = () => ctl.abort(call.signal!.reason);
      if (call.signal?.aborted) throw call.signal.reason;
      call.signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        o.timeout && o.timeout > 0
          ? setTimeout(() => ctl.abort(new KontextTimeoutError(`${call.what} timed out after ${o.timeout} ms`)), o.timeout)
          : undefined;
      try {
        const response = await race(o.fetch(target, { method: call.method, headers, body: call.body, signal: ctl.signal }));
        retryAfter = response.headers.get("retry-after");
        userTimeout = response.headers.get("x-fal-request-timeout-type") === "user";
        hint = response.headers.get("x-fal-retryable");
        if (mode === "raw") {
          const again = !call.once && retry && retry.statuses.includes(response.status) && !userTimeout;
          if (!again || attempt >= retry.maxRetries) return { response };
          await response.body?.cancel().catch(() => {});
          failure = new KontextApiError(`HTTP ${response.status}`, { status: response.status, body: undefined, retryable: true });
        } else if (!response.ok) {
          failure = await race(errorFromResponse(response, call.what));
        } else if (mode === "stream") {
          return { response };
        } else {
          const text = await race(response.text());
          try {
            return { response, data: text ? JSON.parse(text) : undefined };
          } catch {
            failure = await errorFromResponse(response, call.what, text);
          }
        }
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason;
        failure = ctl.signal.aborted && ctl.signal.reason instanceof KontextTimeoutError ? ctl.signal.reason : error;
      } finally {
        clearTimeout(timer);
        call.signal?.removeEventListener("abort", onAbort);
      }
      const retryable =
        failure instanceof KontextError
          ? failure instanceof KontextTimeoutError ||
            (failure instanceof KontextApiError &&
              !userTimeout &&
              (failure.retryable || (hint == null && retry && retry.statuses.includes(failure.status))))
          : true; // a transport error: reset, DNS, `fetch failed`
      const again = call.once ? isConnectionRefused(failure) : retryable;
      if (!retry || attempt >= retry.maxRetries || !again) throw redact(failure, key);
      await sleep(retryDelay(retry, attempt, retryAfter), call.signal);
    }
  };
}

/** Belt and braces: whatever a server echoes back, the key (or its secret half) is cut from messages. */
function redact(error: unknown, key: string | undefined): unknown {
  if (key && error instanceof Error) {
    for (const part of [key, key.split(":")[1]]) {
      if (part && part.length >= 6 && error.message.includes(part)) error.message = error.message.split(part).join("***");
    }
  }
  return error;
}

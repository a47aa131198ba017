/**
 * Counts the HTTP requests each job costs, by wrapping the `fetch` the client is built with: a call
 * under `/requests/{id}` belongs to that job, and a submit to the id its answer carries
 * (`x-fal-request-id`). It also sees every 429, retried ones included, which is what the adaptive
 * limiter needs: the client retries a 429 on its own, so the runner would otherwise only hear of
 * the last one.
 */
import { FAL_HEADERS, parseRetryAfter } from "@kontext-sdk/schema/protocol";

export interface RequestMeter {
  /** Give this to the client (`createKontextClient({ fetch: meter.fetch })`). */
  readonly fetch: typeof fetch;
  /** Requests attributed to a request id so far. */
  count(requestId: string): number;
  /** Every request, attributed or not (a submit answered 429 belongs to no job yet). */
  readonly total: number;
  /** Called on every 429 with its Retry-After in ms (0 when absent). */
  onRateLimited: ((retryAfterMs: number) => void) | undefined;
  /** Drops the count of a finished job. */
  forget(requestId: string): void;
}

const REQUEST_ID = /\/requests\/([^/?#]+)/;

export function createRequestMeter(inner: typeof fetch = (...args) => globalThis.fetch(...args)): RequestMeter {
  const counts = new Map<string, number>();
  let total = 0;
  const bump = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
  const meter: RequestMeter = {
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      total++;
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const fromPath = REQUEST_ID.exec(url)?.[1];
      if (fromPath) bump(decodeURIComponent(fromPath));
      const response = await inner(input, init);
      if (response.status === 429) meter.onRateLimited?.(parseRetryAfter(response.headers.get("retry-after")) ?? 0);
      const fromAnswer = !fromPath && response.ok ? response.headers.get(FAL_HEADERS.requestId) : null;
      if (fromAnswer) bump(fromAnswer);
      return response;
    }) as typeof fetch,
    count: (id) => counts.get(id) ?? 0,
    get total() {
      return total;
    },
    onRateLimited: undefined,
    forget: (id) => {
      counts.delete(id);
    },
  };
  return meter;
}

import { createKontextClient, type KontextClientOptions } from "../src/index.js";

export interface Recorded {
  method: string;
  url: string;
  headers: Headers;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

export type Handler = (call: Recorded, index: number) => Response | Promise<Response>;

/** A fetch double that records every call and answers from `handler`. */
export function fakeFetch(handler: Handler) {
  const calls: Recorded[] = [];
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const call: Recorded = {
      method: init.method ?? "GET",
      url: String(input),
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? init.body : undefined,
      signal: init.signal ?? undefined,
    };
    calls.push(call);
    if (call.signal?.aborted) throw call.signal.reason;
    return handler(call, calls.length - 1);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** An SSE body with one event per status; `drop` errors the stream after them instead of closing it. */
export function sse(events: unknown[], opts: { drop?: boolean; hang?: boolean; signal?: AbortSignal } = {}) {
  const encoder = new TextEncoder();
  const queue = [...events];
  // Pull-based, so a drop happens after the events were read (erroring a stream discards queued chunks).
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const e = queue.shift();
      if (e !== undefined) return controller.enqueue(encoder.encode(`data: ${JSON.stringify(e)}\n\n`));
      if (opts.drop) controller.error(new TypeError("terminated"));
      else if (!opts.hang) controller.close();
      else return new Promise(() => {});
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

/** A response that never comes, rejecting like fetch does when the call's signal aborts. */
export const hang = (call: Recorded) =>
  new Promise<Response>((_, reject) => {
    call.signal?.addEventListener("abort", () => reject(call.signal!.reason), { once: true });
  });

export const BASE = "https://queue.fal.run";
export const APP = `${BASE}/fal-ai/flux-pro/requests`;

export const output = {
  images: [{ url: "https://v3.fal.media/files/x/out.jpg", width: 1024, height: 1024, content_type: "image/jpeg" }],
  timings: { inference: 1.2 },
  seed: 42,
  has_nsfw_concepts: [false],
  prompt: "a fox",
};

export const submitted = (id: string, base = BASE) => ({
  status: "IN_QUEUE",
  request_id: id,
  queue_position: 2,
  status_url: `${base}/fal-ai/flux-pro/requests/${id}/status`,
  response_url: `${base}/fal-ai/flux-pro/requests/${id}`,
  cancel_url: `${base}/fal-ai/flux-pro/requests/${id}/cancel`,
});

/**
 * A small fal queue: submit answers IN_QUEUE, status walks through `statuses` (one per call), the stream
 * sends them all, result answers the output. Override any route by returning a Response from `override`.
 */
export function falQueue(
  opts: {
    id?: string;
    statuses?: unknown[];
    streamDrop?: boolean;
    base?: string;
    result?: () => Response;
    override?: (call: Recorded, index: number) => Response | Promise<Response> | undefined;
  } = {},
) {
  const id = opts.id ?? "req-1";
  const statuses = opts.statuses ?? [
    { status: "IN_QUEUE", queue_position: 1 },
    { status: "IN_PROGRESS", logs: [] },
    { status: "COMPLETED", logs: [], metrics: { inference_time: 1 } },
  ];
  let polls = 0;
  return fakeFetch((call, i) => {
    const over = opts.override?.(call, i);
    if (over) return over;
    const path = new URL(call.headers.get("x-fal-target-url") ?? call.url).pathname;
    if (call.method === "POST") return json(submitted(id, opts.base), 200, { "x-fal-request-id": id });
    if (path.endsWith("/status/stream")) return sse(statuses, { drop: opts.streamDrop });
    if (path.endsWith("/status")) {
      const s = statuses[Math.min(polls++, statuses.length - 1)] as { status: string };
      return json(s, s.status === "COMPLETED" ? 200 : 202);
    }
    if (path.endsWith("/cancel")) return json({ status: "CANCELLATION_REQUESTED" }, 202);
    return opts.result ? opts.result() : json(output, 200, { "x-fal-request-id": id });
  });
}

export const client = (fetch: typeof globalThis.fetch, options: KontextClientOptions = {}) =>
  createKontextClient({ credentials: "key-id:super-secret-value", fetch, retry: { baseDelay: 1, maxDelay: 5 }, ...options });

/** A recording stand-in for fal's queue, for proxy tests that must see exactly what went upstream. */

export interface UpstreamCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export type UpstreamReply = (call: UpstreamCall) => Response | Promise<Response>;

export function fakeUpstream(reply: UpstreamReply = defaultReply) {
  const calls: UpstreamCall[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = request.body ? await request.text() : undefined;
    const call = { method: request.method, url: request.url, headers, body };
    calls.push(call);
    return reply(call);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

export const REQUEST_ID = "acf05732-7cb3-445b-9f39-fdaeccb1d730";

export const OUTPUT = {
  images: [{ url: "https://v3.fal.media/files/tiger.jpg", width: 1024, height: 1024, content_type: "image/jpeg" }],
  timings: { inference: 1.2 },
  seed: 42,
  has_nsfw_concepts: [false],
  prompt: "a tiger",
};

function defaultReply(call: UpstreamCall): Response {
  const url = new URL(call.url);
  const base = `${url.origin}/fal-ai/flux-pro/requests/${REQUEST_ID}`;
  const urls = { status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel` };
  const headers = {
    "content-type": "application/json",
    "x-fal-request-id": REQUEST_ID,
    "set-cookie": "upstream=1",
    server: "fal",
  };
  if (call.method === "POST" && !url.pathname.includes("/requests/")) {
    if (url.hostname === "fal.run") return Response.json(OUTPUT, { headers });
    return Response.json({ status: "IN_QUEUE", request_id: REQUEST_ID, queue_position: 0, ...urls }, { headers });
  }
  if (url.pathname.endsWith("/status")) {
    return Response.json({ status: "IN_PROGRESS", request_id: REQUEST_ID, logs: [], ...urls }, { status: 202, headers });
  }
  if (url.pathname.endsWith("/cancel")) return Response.json({ status: "CANCELLATION_REQUESTED" }, { status: 202, headers });
  return Response.json(OUTPUT, { headers });
}

import type { Server } from "node:http";
import { createFalClient } from "@fal-ai/client";
import { createKontextMock, createManualClock, type ManualClock } from "@kontext-sdk/mocks";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKontextClient } from "../src/index.js";
import { createKontextProxy, type KontextProxyOptions } from "../src/proxy.js";
import { close, listen } from "./support/proxy-server.js";

const KEY = "server-key-id:server-key-secret-123456";
const T2I = "fal-ai/flux-pro/kontext/text-to-image";
// Jobs move only when a test advances the mock's manual clock, so nothing here depends on timing.
const STEP = 1000;
const TIMELINE = { queueSteps: 1, progressSteps: 2, stepMs: STEP };

/** What a browser adds to a same-origin call; @fal-ai/client in Node is not a browser, so its fetch plays one. */
function asBrowser(origin: string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("origin", origin);
    headers.set("sec-fetch-site", "same-origin");
    return fetch(input, { ...init, headers });
  };
}

describe("against the mock server, over real sockets", () => {
  let mock: MockServer;
  let proxy: { url: string; server: Server };
  let proxyUrl: string;
  let clock: ManualClock;
  const tick = () => clock.advance(STEP);

  beforeAll(async () => {
    clock = createManualClock();
    mock = await startMockServer({ timeline: TIMELINE, clock });
    // fal's hosts, as @fal-ai/client names them, are mapped onto the mock server.
    proxy = await listen({ credentials: KEY, authScheme: "Bearer", target: { queue: mock.url, sync: `${mock.url}/sync` } });
    proxyUrl = `${proxy.url}/api/fal/proxy`;
  });
  afterAll(async () => {
    await close(proxy.server);
    await mock.close();
  });

  it("@fal-ai/client completes fal.subscribe (polling) through the proxy", async () => {
    mock.mock.reset();
    const fal = createFalClient({
      proxyUrl: { url: proxyUrl, when: "always" },
      credentials: "browser-side-key-that-must-not-travel",
      fetch: asBrowser(proxy.url),
    });
    const updates: string[] = [];
    const enqueued: string[] = [];
    const result = await fal.subscribe(T2I, {
      input: { prompt: "a red fox reading a newspaper", num_images: 2, output_format: "png" },
      mode: "polling",
      pollInterval: 10,
      logs: true,
      onEnqueue: (id) => enqueued.push(id),
      onQueueUpdate: (status) => {
        updates.push(status.status);
        tick();
      },
    });
    expect(result.requestId).toBe(enqueued[0]);
    expect(result.data.images).toHaveLength(2);
    expect(updates.at(-1)).toBe("COMPLETED");
    const ops = mock.mock.requests.map((r) => r.operation);
    expect(ops[0]).toBe("submit");
    expect(ops).toContain("status");
    expect(ops.at(-1)).toBe("result");
    // The browser's `Key …` never reached upstream: every call carries the server's Bearer key.
    for (const request of mock.mock.requests) {
      expect(request.headers.authorization).toBe("Bearer [redacted]");
      expect(request.headers["x-fal-target-url"]).toBeUndefined();
      expect(request.headers.origin).toBeUndefined();
    }
  });

  it("@fal-ai/client completes fal.subscribe (streaming) through the proxy's SSE passthrough", async () => {
    mock.mock.reset();
    const fal = createFalClient({ proxyUrl: { url: proxyUrl, when: "always" }, fetch: asBrowser(proxy.url) });
    const updates: string[] = [];
    const result = await fal.subscribe(T2I, {
      input: { prompt: "a lighthouse in fog" },
      mode: "streaming",
      // With logs every step is an event, and each event moves the clock one step.
      logs: true,
      onQueueUpdate: (status) => {
        updates.push(status.status);
        tick();
      },
    });
    expect(result.data.images).toHaveLength(1);
    expect(updates).toContain("COMPLETED");
    expect(mock.mock.requests.map((r) => r.operation)).toContain("stream");
  });

  it("@fal-ai/client can cancel through the proxy (PUT)", async () => {
    mock.mock.reset();
    const fal = createFalClient({ proxyUrl: { url: proxyUrl, when: "always" }, fetch: asBrowser(proxy.url) });
    const { request_id } = await fal.queue.submit(T2I, { input: { prompt: "to be cancelled" } });
    await fal.queue.cancel(T2I, { requestId: request_id });
    expect(mock.mock.requests.map((r) => `${r.method} ${r.operation}`)).toEqual(["POST submit", "PUT cancel"]);
  });

  it("@fal-ai/client gets a fal-shaped 422 (ValidationError) for a bad input, and nothing goes upstream", async () => {
    mock.mock.reset();
    const fal = createFalClient({ proxyUrl: { url: proxyUrl, when: "always" }, fetch: asBrowser(proxy.url) });
    const error = await fal.queue.submit(T2I, { input: { prompt: "x", num_images: 12 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 422 });
    expect((error as { fieldErrors: Array<{ loc: unknown[] }> }).fieldErrors[0]!.loc).toEqual(["body", "num_images"]);
    expect(mock.mock.requests).toHaveLength(0);
  });

  it("@fal-ai/client is refused for other models and without a same-origin browser", async () => {
    mock.mock.reset();
    const fal = createFalClient({ proxyUrl: { url: proxyUrl, when: "always" }, fetch: asBrowser(proxy.url) });
    await expect(fal.queue.submit("fal-ai/flux/dev", { input: { prompt: "x" } })).rejects.toMatchObject({ status: 403 });
    const stranger = createFalClient({ proxyUrl: { url: proxyUrl, when: "always" }, credentials: "k" });
    await expect(stranger.queue.submit(T2I, { input: { prompt: "x" } })).rejects.toMatchObject({ status: 403 });
    const otherSite = createFalClient({
      proxyUrl: { url: proxyUrl, when: "always" },
      fetch: asBrowser("https://evil.example.com"),
    });
    await expect(otherSite.queue.submit(T2I, { input: { prompt: "x" } })).rejects.toMatchObject({ status: 403 });
    expect(mock.mock.requests).toHaveLength(0);
  });

  it("runs synchronously through the proxy (fal.run → the mock's sync host)", async () => {
    mock.mock.reset();
    const fal = createFalClient({ proxyUrl: { url: proxyUrl, when: "always" }, fetch: asBrowser(proxy.url) });
    const result = await fal.run(T2I, { input: { prompt: "a sync run" } });
    expect(result.data.images).toHaveLength(1);
    expect(mock.mock.requests[0]!.path).toBe(`/sync/${T2I}`);
  });

  it("our own client's proxyUrl completes a subscribe through the proxy", async () => {
    mock.mock.reset();
    const client = createKontextClient({ proxyUrl, fetch: asBrowser(proxy.url), retry: false });
    const submitted = await client.submit(T2I, { prompt: "through our client" });
    // The answer's URLs point back through the proxy (the client may still rebuild its own from the registry).
    expect(submitted.body.status_url).toBe(`${proxyUrl}/fal-ai/flux-pro/requests/${submitted.requestId}/status`);
    const result = await client.subscribe(
      T2I,
      { prompt: "and subscribe" },
      { mode: "poll", pollInterval: 10, onQueueUpdate: tick },
    );
    expect(result.data.images.length).toBeGreaterThan(0);
    for (const request of mock.mock.requests) expect(request.headers.authorization).toBe("Bearer [redacted]");
  });

  it("the node adapter answers 413 for an oversized streamed body without calling upstream", async () => {
    mock.mock.reset();
    const small = await listen({ credentials: KEY, target: mock.url, maxBodyBytes: 64 * 1024, authorize: () => true });
    try {
      const body = JSON.stringify({ prompt: "x", image_url: `data:image/png;base64,${"A".repeat(256 * 1024)}` });
      const response = await fetch(`${small.url}/api/fal/proxy/fal-ai/flux-pro/kontext`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(413);
      expect((await response.json()).error_type).toBe("request_too_large");
      expect(mock.mock.requests).toHaveLength(0);
    } finally {
      await close(small.server);
    }
  });

  it("the node adapter streams status events as they happen", async () => {
    mock.mock.reset();
    const open = await listen({ credentials: KEY, target: mock.url, authorize: () => true });
    try {
      const submit = await fetch(`${open.url}/api/fal/proxy/${T2I}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: "stream me" }),
      });
      const { status_url } = (await submit.json()) as { status_url: string };
      expect(status_url.startsWith(`${open.url}/api/fal/proxy/fal-ai/flux-pro/requests/`)).toBe(true);
      const stream = await fetch(`${status_url}/stream?logs=1`, { headers: { accept: "text/event-stream" } });
      expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      // The first event arrives while the job is still queued: the clock has not moved, so upstream
      // is still open and nothing could have been buffered to the end.
      expect((await reader.read()).value).toContain("IN_QUEUE");
      tick();
      expect((await reader.read()).value).toContain("IN_PROGRESS");
      tick();
      tick();
      let rest = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += value;
      }
      expect(rest).toContain("COMPLETED");
      // The mock's events name the mock's URLs; the browser sees the proxy's.
      expect(rest).toContain(`"status_url":"${status_url}"`);
      expect(rest).not.toContain(mock.url);
    } finally {
      await close(open.server);
    }
  });
});

describe("against the mock's in-process handler (request log)", () => {
  function setup(options: Partial<KontextProxyOptions> = {}) {
    const mock = createKontextMock({ timeline: TIMELINE, clock: createManualClock() });
    const proxy = createKontextProxy({
      allowedHosts: ["app.example.com"],
      credentials: KEY,
      target: { queue: "http://mock.test", sync: "http://mock.test/sync" },
      fetch: mock.fetch,
      authorize: () => true,
      ...options,
    });
    return { mock, proxy };
  }
  const at = (target: string, init: RequestInit = {}) =>
    new Request("https://app.example.com/api/fal/proxy", {
      ...init,
      headers: { "x-fal-target-url": target, "content-type": "application/json", ...(init.headers as Record<string, string>) },
    });

  it("forwards a valid submit and nothing else", async () => {
    const { mock, proxy } = setup();
    const rejected = [
      at(`https://queue.fal.run/fal-ai/flux/dev`, { method: "POST", body: "{}" }),
      at(`https://evil.example.com/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x" }) }),
      at(`https://queue.fal.run/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "" }) }),
      at(`https://queue.fal.run/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x".repeat(30 * 1024 * 1024) }) }),
      at(`https://queue.fal.run/fal-ai/flux-pro/requests/x/../../admin`),
      at(`https://queue.fal.run/fal-ai/flux-pro/requests/abc/status`, { method: "DELETE" }),
    ];
    const statuses = [];
    for (const request of rejected) statuses.push((await proxy(request)).status);
    expect(statuses).toEqual([403, 403, 422, 413, 403, 405]);
    expect(mock.requests).toHaveLength(0);

    const ok = await proxy(at(`https://queue.fal.run/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x" }) }));
    expect(ok.status).toBe(200);
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]).toMatchObject({ method: "POST", path: `/${T2I}`, operation: "submit" });
  });

  it("passes the mock's own errors through (unknown request id → 404), key-free", async () => {
    const { proxy } = setup();
    const response = await proxy(at("https://queue.fal.run/fal-ai/flux-pro/requests/does-not-exist/status"));
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("server-key-secret");
  });

  it("authorizeOperation + onSubmitted: only the user who submitted a job may follow or cancel it", async () => {
    const owners = new Map<string, string>();
    const userOf = (request: Request) => request.headers.get("x-user") ?? "";
    const seen: string[] = [];
    const { mock, proxy } = setup({
      onSubmitted: (requestId, request) => {
        owners.set(requestId, userOf(request));
      },
      authorizeOperation: (operation, request) => {
        seen.push(operation.kind);
        if (operation.kind === "submit" || operation.kind === "run" || operation.kind === "upload") return userOf(request) !== "";
        return owners.get(operation.requestId) === userOf(request);
      },
    });
    const as = (user: string, target: string, init: RequestInit = {}) =>
      at(target, { ...init, headers: { "x-user": user, ...(init.headers as Record<string, string>) } });

    expect(
      (await proxy(at(`https://queue.fal.run/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x" }) }))).status,
    ).toBe(403);
    const submitted = await proxy(
      as("ada", `https://queue.fal.run/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x" }) }),
    );
    expect(submitted.status).toBe(200);
    const { request_id: id } = (await submitted.json()) as { request_id: string };
    expect(owners.get(id)).toBe("ada");

    const job = `https://queue.fal.run/fal-ai/flux-pro/requests/${id}`;
    const requestsBefore = mock.requests.length;
    const refused = [
      await proxy(as("bob", `${job}/status`)),
      await proxy(as("bob", job)),
      await proxy(as("bob", `${job}/status/stream`)),
      await proxy(as("bob", `${job}/cancel`, { method: "PUT" })),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    expect(await refused[0]!.json()).toMatchObject({ error_type: "proxy_forbidden" });
    // Refused before upstream: the mock saw nothing of them.
    expect(mock.requests.length).toBe(requestsBefore);

    const own = await proxy(as("ada", `${job}/status`));
    expect([200, 202]).toContain(own.status);
    expect(await own.json()).toMatchObject({ request_id: id });
    expect(seen).toEqual(["submit", "submit", "status", "result", "stream", "cancel", "status"]);
  });

  it("an onSubmitted that throws is reported, and the caller still gets the job's id", async () => {
    const errors: unknown[] = [];
    const { mock, proxy } = setup({
      onSubmitted: () => {
        throw new Error("ownership store down");
      },
      onError: (error) => errors.push(error),
    });
    const response = await proxy(at(`https://queue.fal.run/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x" }) }));
    expect(response.status).toBe(200);
    expect(mock.jobs.has(((await response.json()) as { request_id: string }).request_id)).toBe(true);
    expect(errors).toEqual([new Error("ownership store down")]);
  });
});

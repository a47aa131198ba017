/**
 * Issue 15, finding 8: a silent upstream must not hold the browser's connection open. Calls get a
 * deadline (504), streamed answers an idle limit (the stream is cut and upstream aborted).
 */
import { describe, expect, it } from "vitest";
import {
  createKontextProxy,
  DEFAULT_RUN_TIMEOUT_MS,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  type KontextProxyOptions,
} from "../../src/proxy.js";
import { REQUEST_ID } from "../support/fake-upstream.js";
import { APP, PROXY, PROXY_KEY, pageRequest, QUEUE, submitRequest, T2I, VALID_INPUT } from "../support/proxy-requests.js";

const STATUS = `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status`;

function proxyWith(fetch: typeof globalThis.fetch, options: Partial<KontextProxyOptions> = {}) {
  return createKontextProxy({
    allowedHosts: ["app.example.com"],
    credentials: PROXY_KEY,
    fetch,
    onRefused: () => {},
    ...options,
  });
}

/** An upstream that accepts the call and never answers; it ignores its abort signal, too. */
const silent = (() => new Promise<Response>(() => {})) as unknown as typeof globalThis.fetch;

describe("upstream timeouts (issue 15 #8)", () => {
  it("has documented defaults", () => {
    expect(DEFAULT_UPSTREAM_TIMEOUT_MS).toBe(60_000);
    expect(DEFAULT_RUN_TIMEOUT_MS).toBe(300_000);
    expect(DEFAULT_STREAM_IDLE_TIMEOUT_MS).toBe(120_000);
    expect(() => createKontextProxy({ upstreamTimeoutMs: 0 })).toThrow(/upstreamTimeoutMs/);
  });

  it("answers 504 when upstream does not answer a queue call in time", async () => {
    const response = await proxyWith(silent, { upstreamTimeoutMs: 30 })(submitRequest(PROXY, APP, VALID_INPUT));
    expect(response.status).toBe(504);
    expect(response.headers.get("x-fal-error-type")).toBe("proxy_upstream_timeout");
    expect((await response.json()).reason).toBe("upstream_timeout");
  });

  it("uses runTimeoutMs for sync runs", async () => {
    const proxy = proxyWith(silent, { upstreamTimeoutMs: 600_000, runTimeoutMs: 30 });
    const response = await proxy(submitRequest(PROXY, APP, VALID_INPUT, `https://fal.run/${T2I}`));
    expect(response.status).toBe(504);
  });

  it("answers 504 when a body read in full stalls, and aborts upstream", async () => {
    let upstreamSignal: AbortSignal | undefined;
    const stalling = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      upstreamSignal = init?.signal ?? undefined;
      return new Response(
        new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"status":')) }),
        {
          status: 202,
        },
      );
    }) as typeof globalThis.fetch;
    const response = await proxyWith(stalling, { upstreamTimeoutMs: 30 })(pageRequest(PROXY, APP, { target: STATUS }));
    expect(response.status).toBe(504);
    expect(upstreamSignal?.aborted).toBe(true);
  });

  it("cuts a status stream that goes silent, and aborts upstream", async () => {
    let upstreamSignal: AbortSignal | undefined;
    const quiet = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      upstreamSignal = init?.signal ?? undefined;
      const first = new TextEncoder().encode('data: {"status":"IN_QUEUE"}\n\n');
      return new Response(new ReadableStream({ start: (controller) => controller.enqueue(first) }), {
        headers: { "content-type": "text/event-stream" },
      });
    }) as typeof globalThis.fetch;
    const response = await proxyWith(quiet, { streamIdleTimeoutMs: 30 })(pageRequest(PROXY, APP, { target: `${STATUS}/stream` }));
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await expect(reader.read()).rejects.toThrow(/silent/);
    expect(upstreamSignal?.aborted).toBe(true);
  });

  it("a stream that keeps talking is not cut", async () => {
    let pushes = 0;
    const chatty = (async () =>
      new Response(
        new ReadableStream({
          async pull(controller) {
            await new Promise((resolve) => setTimeout(resolve, 5));
            if (++pushes > 6) return controller.close();
            controller.enqueue(new TextEncoder().encode(`data: {"status":"IN_PROGRESS","n":${pushes}}\n\n`));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      )) as unknown as typeof globalThis.fetch;
    const response = await proxyWith(chatty, { streamIdleTimeoutMs: 30_000 })(
      pageRequest(PROXY, APP, { target: `${STATUS}/stream` }),
    );
    const text = await response.text();
    expect(text.match(/IN_PROGRESS/g)).toHaveLength(6);
  });
});

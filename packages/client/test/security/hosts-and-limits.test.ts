/**
 * Issue 15, findings 4 and 12: `run()` never sends a gateway's credentials to fal; a JSON answer larger
 * than `maxResponseBytes` is refused without being read to its end; a status stream that trickles bytes
 * without ever completing an event counts as idle.
 */
import { describe, expect, it, vi } from "vitest";
import {
  createKontextClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  KontextApiError,
  KontextError,
  STREAM_IDLE_MS,
  STREAM_REOPENS,
} from "../../src/index.js";
import { falQueue, json, output } from "../helpers.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const GATEWAY = "https://gw.example/api";

describe("run() and the sync host (finding 4)", () => {
  it("with a custom baseUrl and no syncBaseUrl, refuses before any request", async () => {
    const q = falQueue({ override: () => json(output) });
    const kontext = createKontextClient({
      baseUrl: GATEWAY,
      authScheme: "Bearer",
      credentials: "gateway-token-123456",
      fetch: q.fetch,
    });
    const error = await kontext.run(T2I, { prompt: "a fox" }).catch((e) => e);
    expect(error).toBeInstanceOf(KontextError);
    expect(error.message).toMatch(/syncBaseUrl/);
    expect(error.message).not.toContain("gateway-token");
    expect(q.calls).toHaveLength(0);
  });

  it("runs where it is told to, with the credentials, and on fal by default", async () => {
    const q = falQueue({ override: () => json(output) });
    const gateway = createKontextClient({ baseUrl: GATEWAY, syncBaseUrl: `${GATEWAY}/sync`, credentials: "k", fetch: q.fetch });
    await gateway.run(T2I, { prompt: "a fox" });
    expect(q.calls[0]!.url).toBe(`${GATEWAY}/sync/${T2I}`);
    expect(q.calls[0]!.headers.get("authorization")).toBe("Key k");
    await createKontextClient({ credentials: "k", fetch: q.fetch }).run(T2I, { prompt: "a fox" });
    expect(q.calls[1]!.url).toBe(`https://fal.run/${T2I}`);
    // fal's own queue host named explicitly is not a custom host.
    await createKontextClient({ baseUrl: "https://queue.fal.run", credentials: "k", fetch: q.fetch }).run(T2I, {
      prompt: "a fox",
    });
    expect(q.calls[2]!.url).toBe(`https://fal.run/${T2I}`);
  });
});

/** A body that produces `chunk`-byte pieces for as long as it is read, counting how many were pulled. */
function endless(chunk = 1 << 20) {
  let pulled = 0;
  const piece = new Uint8Array(chunk).fill(0x20);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(piece);
    },
  });
  return { body, pulled: () => pulled };
}

describe("maxResponseBytes (finding 12)", () => {
  it("stops reading an answer past the cap and throws a typed, non-retryable error", async () => {
    const source = endless();
    const q = falQueue({
      override: () => new Response(source.body, { status: 200, headers: { "content-type": "application/json" } }),
    });
    const kontext = createKontextClient({ credentials: "k", fetch: q.fetch, maxResponseBytes: 4 << 20 });
    const error = await kontext.status(T2I, "r").catch((e) => e);
    expect(error).toBeInstanceOf(KontextApiError);
    expect(error).toMatchObject({ errorType: "response_too_large", retryable: false, requestId: "r" });
    expect(error.message).toContain("maxResponseBytes");
    expect(source.pulled()).toBeLessThanOrEqual(8);
    expect(q.calls).toHaveLength(1);
  });

  it("refuses a declared Content-Length past the cap without reading the body", async () => {
    const source = endless();
    const q = falQueue({
      override: () => new Response(source.body, { status: 200, headers: { "content-length": String(400 << 20) } }),
    });
    const error = await createKontextClient({ credentials: "k", fetch: q.fetch })
      .result(T2I, "r")
      .catch((e) => e);
    expect(error).toMatchObject({ errorType: "response_too_large" });
    expect(source.pulled()).toBeLessThanOrEqual(1);
  });

  it("the default leaves room for four PNGs as sync_mode data URIs", async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBeGreaterThanOrEqual(4 * 10 * 1024 * 1024);
    const image = `data:image/png;base64,${"A".repeat(2 << 20)}`;
    const big = { ...output, images: Array.from({ length: 4 }, () => ({ ...output.images[0], url: image })) };
    const q = falQueue({ override: () => json(big) });
    const { data } = await createKontextClient({ credentials: "k", fetch: q.fetch }).run(T2I, {
      prompt: "a fox",
      sync_mode: true,
    });
    expect(data.images).toHaveLength(4);
  }, 30_000);
});

describe("stream idleness counts events, not bytes (finding 12)", () => {
  it("a stream that sends a byte a second without a line end is reopened, then left for polling", async () => {
    vi.useFakeTimers();
    try {
      const trickle = () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull: (controller) =>
              new Promise<void>((resolve) =>
                setTimeout(() => {
                  // The client cancels the body when it gives up on the stream; a late byte has nowhere to go.
                  try {
                    controller.enqueue(new TextEncoder().encode("x"));
                  } catch {}
                  resolve();
                }, 1000),
              ),
          }),
          { status: 200, headers: { "content-type": "text/event-stream" } },
        );
      const q = falQueue({
        statuses: [{ status: "COMPLETED" }],
        override: (c) => (c.url.endsWith("/stream") ? trickle() : undefined),
      });
      const done = createKontextClient({ credentials: "k", fetch: q.fetch }).subscribe(T2I, { prompt: "a fox" });
      await vi.advanceTimersByTimeAsync((STREAM_REOPENS + 1) * STREAM_IDLE_MS + 1000);
      expect(q.calls.filter((c) => c.url.endsWith("/stream"))).toHaveLength(STREAM_REOPENS + 1);
      expect((await done).data).toEqual(output);
      expect(q.calls.filter((c) => c.url.endsWith("/status"))).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keep-alive comments are complete messages: a quiet, live stream is not reopened", async () => {
    vi.useFakeTimers();
    try {
      let opened = 0;
      const alive = () => {
        opened++;
        let beats = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull: (controller) =>
              new Promise<void>((resolve) =>
                setTimeout(() => {
                  const line = ++beats < 6 ? ": keep-alive\n\n" : 'data: {"status":"COMPLETED"}\n\n';
                  controller.enqueue(new TextEncoder().encode(line));
                  resolve();
                }, 10_000),
              ),
          }),
          { status: 200, headers: { "content-type": "text/event-stream" } },
        );
      };
      const q = falQueue({ override: (c) => (c.url.endsWith("/stream") ? alive() : undefined) });
      const done = createKontextClient({ credentials: "k", fetch: q.fetch }).subscribe(T2I, { prompt: "a fox" });
      await vi.advanceTimersByTimeAsync(60_000);
      expect((await done).data).toEqual(output);
      expect(opened).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

import { describe, expect, it } from "vitest";
import { KontextTimeoutError } from "../src/index.js";
import { client, falQueue, hang, type Recorded, sse } from "./helpers.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const input = { prompt: "a fox" };

type Stage = (c: Recorded) => boolean;
const stages: [string, Stage, { mode?: "poll"; pollInterval?: number }][] = [
  ["submit", (c) => c.method === "POST", {}],
  ["status stream connect", (c) => c.url.endsWith("/stream"), {}],
  ["status poll", (c) => c.url.endsWith("/status"), { mode: "poll", pollInterval: 1 }],
  ["result", (c) => c.method === "GET" && !c.url.includes("/status"), {}],
];

describe("abort", () => {
  it("an already aborted signal sends nothing", async () => {
    const q = falQueue();
    const reason = new Error("stop");
    await expect(client(q.fetch).subscribe(T2I, input, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(q.calls).toHaveLength(0);
  });

  it.each(stages)("aborting during %s rejects with the signal's reason and stops there", async (_, stage, opts) => {
    const ctl = new AbortController();
    const q = falQueue({
      override: (c) => {
        if (!stage(c)) return undefined;
        queueMicrotask(() => ctl.abort());
        return hang(c);
      },
    });
    const err = await client(q.fetch)
      .subscribe(T2I, input, { ...opts, signal: ctl.signal })
      .catch((e) => e);
    expect(err).toBeInstanceOf(DOMException);
    expect(err.name).toBe("AbortError");
    const n = q.calls.length;
    await new Promise((r) => setTimeout(r, 5));
    expect(q.calls).toHaveLength(n);
    expect(q.calls.some((c) => c.url.endsWith("/cancel"))).toBe(false);
  });

  it("aborting while the stream is open (between events) rejects", async () => {
    const ctl = new AbortController();
    const q = falQueue({
      override: (c) => (c.url.endsWith("/stream") ? sse([{ status: "IN_QUEUE", queue_position: 1 }], { hang: true }) : undefined),
    });
    const p = client(q.fetch).subscribe(T2I, input, {
      signal: ctl.signal,
      onQueueUpdate: () => ctl.abort(new Error("user left")),
    });
    await expect(p).rejects.toThrow("user left");
    expect(q.calls).toHaveLength(2);
  });

  it("aborting during a poll wait or a retry wait rejects", async () => {
    const ctl = new AbortController();
    const q = falQueue();
    const p = client(q.fetch).subscribe(T2I, input, {
      mode: "poll",
      pollInterval: 60_000,
      signal: ctl.signal,
      onEnqueue: () => setTimeout(() => ctl.abort(), 1),
    });
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    const busy = falQueue({
      override: (c) => (c.method === "GET" ? new Response("busy", { status: 503, headers: { "retry-after": "60" } }) : undefined),
    });
    const ctl2 = new AbortController();
    const p2 = client(busy.fetch, { retry: { maxDelay: 60_000 } }).status(T2I, "r", { signal: ctl2.signal });
    setTimeout(() => ctl2.abort(), 1);
    await expect(p2).rejects.toMatchObject({ name: "AbortError" });
    expect(busy.calls).toHaveLength(1);
  });

  it("result(), status(), cancel() and run() take a signal too", async () => {
    const q = falQueue({ override: (c) => hang(c) });
    const c = client(q.fetch);
    for (const call of [
      (s: AbortSignal) => c.result(T2I, "r", { signal: s }),
      (s: AbortSignal) => c.status(T2I, "r", { signal: s }),
      (s: AbortSignal) => c.cancel(T2I, "r", { signal: s }),
      (s: AbortSignal) => c.run(T2I, input, { signal: s }),
    ]) {
      const ctl = new AbortController();
      const p = call(ctl.signal);
      setTimeout(() => ctl.abort(new Error("bye")), 1);
      await expect(p).rejects.toThrow("bye");
    }
  });
});

describe("timeout", () => {
  it("rejects with KontextTimeoutError carrying the request id, and cancels the remote job", async () => {
    const q = falQueue({
      id: "t1",
      override: (c) => (c.url.endsWith("/stream") ? sse([{ status: "IN_QUEUE", queue_position: 3 }], { hang: true }) : undefined),
    });
    const err = await client(q.fetch)
      .subscribe(T2I, input, { timeout: 20 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextTimeoutError);
    expect(err.requestId).toBe("t1");
    await new Promise((r) => setTimeout(r, 5));
    const cancel = q.calls.find((c) => c.url.endsWith("/cancel"));
    expect(cancel?.method).toBe("PUT");
    expect(cancel?.url).toBe("https://queue.fal.run/fal-ai/flux-pro/requests/t1/cancel");
  });

  it("a timeout during submit has no job to cancel", async () => {
    const q = falQueue({ override: (c) => (c.method === "POST" ? hang(c) : undefined) });
    const err = await client(q.fetch)
      .subscribe(T2I, input, { timeout: 10 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextTimeoutError);
    expect(err.requestId).toBeUndefined();
    expect(q.calls).toHaveLength(1);
  });

  it("a failing best-effort cancel does not leak an unhandled rejection", async () => {
    const q = falQueue({
      override: (c) =>
        c.url.endsWith("/cancel") ? Promise.reject(new TypeError("fetch failed")) : c.method === "GET" ? hang(c) : undefined,
    });
    await expect(client(q.fetch, { retry: false }).subscribe(T2I, input, { timeout: 10 })).rejects.toBeInstanceOf(
      KontextTimeoutError,
    );
    await new Promise((r) => setTimeout(r, 5));
  });

  it("run() honours its timeout", async () => {
    const q = falQueue({ override: (c) => hang(c) });
    await expect(client(q.fetch).run(T2I, input, { timeout: 10 })).rejects.toBeInstanceOf(KontextTimeoutError);
  });
});

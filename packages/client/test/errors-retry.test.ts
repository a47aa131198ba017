import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, KontextApiError, KontextError, KontextNetworkError, KontextValidationError } from "../src/index.js";
import { isConnectionRefused, retryDelay } from "../src/retry.js";
import { client, falQueue, json, output } from "./helpers.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const KEY = "key-id:super-secret-value";
const refused = () =>
  Object.assign(new TypeError("fetch failed"), {
    cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
  });
const reset = () =>
  Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });

describe("error mapping", () => {
  it("422 with a string detail is tolerated and reads well", async () => {
    const q = falQueue({ override: () => json({ detail: "Prompt is too long" }, 422) });
    const err = await client(q.fetch)
      .result(T2I, "r")
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextValidationError);
    expect(err.issues).toEqual([{ path: "", field: "", value: undefined, rule: "server", message: "Prompt is too long" }]);
    expect(err.message).toBe("GET /fal-ai/flux-pro/requests/r rejected the input (422): Prompt is too long");
  });

  it("an HTML error page gives a KontextApiError with a short snippet", async () => {
    const page = `<html><head><title>502 Bad Gateway</title></head><body>${"x".repeat(5000)}</body></html>`;
    const q = falQueue({ override: () => new Response(page, { status: 500, headers: { "content-type": "text/html" } }) });
    const err = await client(q.fetch)
      .status(T2I, "r")
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextApiError);
    expect(err.message).toContain("HTTP 500");
    expect(err.message).toContain("502 Bad Gateway");
    expect(err.message.length).toBeLessThan(200);
    expect(err.body).toBe(page);
  });

  it("truncated JSON on a 200 is a typed, retryable error, not a SyntaxError", async () => {
    const q = falQueue({ override: () => json('{"status": "IN_QU') });
    const err = await client(q.fetch, { retry: false })
      .status(T2I, "r")
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextApiError);
    expect(err).toMatchObject({ status: 200, retryable: true });
  });

  it("reads the request id and error type from headers or body", async () => {
    const q = falQueue({
      override: () => json({ detail: "Request timed out", error_type: "request_timeout" }, 504, { "x-fal-request-id": "q1" }),
    });
    const e1 = await client(q.fetch, { retry: false })
      .status(T2I, "r")
      .catch((e) => e);
    // A call about a request reports the id it asked about; one without (a sync run) reads the header.
    expect(e1).toMatchObject({ status: 504, requestId: "r", errorType: "request_timeout", retryable: true });
    const sync = await client(q.fetch, { retry: false })
      .run(T2I, { prompt: "x" })
      .catch((e) => e);
    expect(sync).toMatchObject({ status: 504, requestId: "q1", errorType: "request_timeout", retryable: true });
    const h = falQueue({
      override: () =>
        json({ detail: "busy" }, 503, { "X-Fal-Error-Type": "runner_scheduling_failure", "x-fal-retryable": "false" }),
    });
    const e2 = await client(h.fetch)
      .status(T2I, "r")
      .catch((e) => e);
    expect(e2).toMatchObject({ errorType: "runner_scheduling_failure", retryable: false });
    expect(h.calls).toHaveLength(1);
  });

  it("bad input is rejected before any network call, naming field, value and rule", async () => {
    const q = falQueue();
    const err = await client(q.fetch)
      .submit(T2I, { prompt: "a fox", num_images: 9, safety_tolerance: 3 as never })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextValidationError);
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: "num_images", value: 9, rule: "maximum" }),
        expect.objectContaining({ field: "safety_tolerance", value: 3 }),
      ]),
    );
    expect(err.message).toContain("num_images must be at most 4 (got 9)");
    expect(q.calls).toHaveLength(0);
  });

  it("the key never appears in any message, even when a server echoes it", async () => {
    const messages: string[] = [];
    const echo = falQueue({ override: (c) => json({ detail: `bad header ${c.headers.get("authorization")}` }, 401) });
    for (const call of [
      (c: ReturnType<typeof client>) => c.status(T2I, "r"),
      (c: ReturnType<typeof client>) => c.submit(T2I, { prompt: "x" }),
      (c: ReturnType<typeof client>) => c.subscribe(T2I, { prompt: "x" }),
      (c: ReturnType<typeof client>) => c.run(T2I, { prompt: "x" }),
      (c: ReturnType<typeof client>) => c.submit(T2I, { prompt: 1 as never }),
    ]) {
      const err = await call(client(echo.fetch)).catch((e) => e);
      expect(err).toBeInstanceOf(KontextError);
      messages.push(err.message, String(err.stack));
    }
    const echo422 = falQueue({
      override: (c) => json({ detail: [{ loc: ["body", "x"], msg: String(c.headers.get("authorization")), type: "t" }] }, 422),
    });
    const e = await client(echo422.fetch)
      .result(T2I, "r")
      .catch((e) => e);
    messages.push(e.message);
    const timeout = falQueue({ override: () => new Promise(() => {}) });
    const t = await client(timeout.fetch, { timeout: 5, retry: false })
      .status(T2I, "r")
      .catch((e) => e);
    messages.push(t.message);
    expect(messages.join("\n")).toContain("bad header Key [redacted]");
    for (const m of messages) {
      expect(m).not.toContain(KEY);
      expect(m).not.toContain("super-secret-value");
    }
  });
});

describe("transport failures", () => {
  const resetOn = (pred: (c: { method: string; url: string }) => boolean) =>
    falQueue({
      override: (c) =>
        pred(c)
          ? Promise.reject(
              new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) }),
            )
          : undefined,
    });
  const expectNetwork = (err: unknown, what: string) => {
    expect(err).toBeInstanceOf(KontextNetworkError);
    expect(err).toBeInstanceOf(KontextApiError);
    expect(err).toBeInstanceOf(KontextError);
    const e = err as KontextNetworkError;
    expect(e.name).toBe("KontextNetworkError");
    expect(e.status).toBe(0);
    expect(e.body).toBeUndefined();
    expect(e.retryable).toBe(true);
    expect(e.message).toBe(`${what}: fetch failed (ECONNRESET)`);
    expect(e.cause).toBeInstanceOf(TypeError);
    expect((e.cause as Error).message).toBe("fetch failed");
  };

  it("a reset on submit, status, result and run rejects with a typed KontextNetworkError", async () => {
    const submit = resetOn((c) => c.method === "POST");
    expectNetwork(
      await client(submit.fetch)
        .submit(T2I, { prompt: "x" })
        .catch((e) => e),
      "POST /fal-ai/flux-pro/kontext/text-to-image",
    );
    expect(submit.calls).toHaveLength(1);
    const sub = resetOn((c) => c.method === "POST");
    expectNetwork(
      await client(sub.fetch)
        .subscribe(T2I, { prompt: "x" })
        .catch((e) => e),
      "POST /fal-ai/flux-pro/kontext/text-to-image",
    );
    expect(sub.calls).toHaveLength(1);
    const run = resetOn(() => true);
    expectNetwork(
      await client(run.fetch)
        .run(T2I, { prompt: "x" })
        .catch((e) => e),
      "POST /fal-ai/flux-pro/kontext/text-to-image",
    );
    expect(run.calls).toHaveLength(1);
    // Idempotent calls retry first (1 + maxRetries), then surface the same typed error.
    for (const op of ["status", "result"] as const) {
      const q = resetOn(() => true);
      const path = op === "status" ? "/fal-ai/flux-pro/requests/r/status" : "/fal-ai/flux-pro/requests/r";
      expectNetwork(
        await client(q.fetch)
          [op](T2I, "r")
          .catch((e) => e),
        `GET ${path}`,
      );
      expect(q.calls).toHaveLength(4);
    }
  });

  it("keeps the request id when the body breaks off, and never shows the key", async () => {
    const body = () =>
      new ReadableStream({
        start(c) {
          c.error(Object.assign(new TypeError(`terminated ${KEY}`), { cause: { code: "ECONNRESET" } }));
        },
      });
    const q = falQueue({ override: () => new Response(body(), { status: 200, headers: { "x-fal-request-id": "b1" } }) });
    const err = await client(q.fetch, { retry: false })
      .run(T2I, { prompt: "x" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextNetworkError);
    expect(err.requestId).toBe("b1");
    expect(err.message).not.toContain("super-secret-value");
    expect(err.message).toContain("[redacted]");
    // A call about a known request keeps the id it asked about.
    const asked = await client(q.fetch, { retry: false })
      .result(T2I, "r")
      .catch((e) => e);
    expect(asked).toBeInstanceOf(KontextNetworkError);
    expect(asked.requestId).toBe("r");
  });

  it("aborts and our own timeouts are not wrapped", async () => {
    const ctl = new AbortController();
    const reason = new Error("stop");
    const q = falQueue({ override: () => new Promise<Response>(() => ctl.abort(reason)) });
    await expect(client(q.fetch).status(T2I, "r", { signal: ctl.signal })).rejects.toBe(reason);
    const slow = falQueue({ override: () => new Promise<Response>(() => {}) });
    await expect(client(slow.fetch, { timeout: 5, retry: false }).status(T2I, "r")).rejects.toMatchObject({
      name: "KontextTimeoutError",
    });
  });
});

describe("retry policy", () => {
  it("retries 429/502/503/504 and honours Retry-After on status, result and cancel", async () => {
    for (const op of ["status", "result", "cancel"] as const) {
      for (const code of [429, 502, 503, 504]) {
        const q = falQueue({ override: (_, i) => (i < 2 ? json({ detail: "later" }, code, { "retry-after": "0" }) : undefined) });
        const c = client(q.fetch);
        await c[op](T2I, "r");
        expect(q.calls).toHaveLength(3);
      }
    }
  });

  it("retries transport errors (reset) on idempotent calls", async () => {
    const q = falQueue({ override: (_, i) => (i === 0 ? Promise.reject(reset()) : undefined) });
    expect((await client(q.fetch).result(T2I, "r")).data).toEqual(output);
    expect(q.calls).toHaveLength(2);
  });

  it("gives up after maxRetries and throws the last error", async () => {
    const q = falQueue({ override: () => json({ detail: "down" }, 503) });
    await expect(client(q.fetch, { retry: { maxRetries: 2, baseDelay: 1 } }).status(T2I, "r")).rejects.toMatchObject({
      status: 503,
    });
    expect(q.calls).toHaveLength(3);
  });

  it("never retries 4xx, 500, user start-timeouts, or anything when retry is false", async () => {
    for (const [code, headers] of [
      [400, {}],
      [401, {}],
      [404, {}],
      [422, {}],
      [500, {}],
      [504, { "x-fal-request-timeout-type": "user" }],
    ] as const) {
      const q = falQueue({ override: () => json({ detail: "no" }, code, headers) });
      await client(q.fetch)
        .status(T2I, "r")
        .catch(() => {});
      expect(q.calls, `HTTP ${code}`).toHaveLength(1);
    }
    const off = falQueue({ override: () => json({ detail: "down" }, 503) });
    await client(off.fetch, { retry: false })
      .status(T2I, "r")
      .catch(() => {});
    expect(off.calls).toHaveLength(1);
  });

  it("never submits twice: 502/503/504, resets and timeouts on submit are not retried", async () => {
    const failures = [
      () => json({ detail: "bad gateway" }, 502),
      () => json({ detail: "unavailable" }, 503),
      () => json({ detail: "timeout" }, 504),
      () => Promise.reject(reset()),
      () => json("{garbled", 200),
    ];
    for (const fail of failures) {
      const q = falQueue({ override: (c) => (c.method === "POST" ? fail() : undefined) });
      await expect(client(q.fetch).subscribe(T2I, { prompt: "x" })).rejects.toBeDefined();
      expect(q.calls.filter((c) => c.method === "POST")).toHaveLength(1);
    }
    const slow = falQueue({ override: (c) => (c.method === "POST" ? new Promise<Response>(() => {}) : undefined) });
    await expect(client(slow.fetch, { timeout: 5 }).submit(T2I, { prompt: "x" })).rejects.toMatchObject({
      name: "KontextTimeoutError",
    });
    expect(slow.calls).toHaveLength(1);
  });

  it("retries a submit (and a sync run) only when the connection was refused", async () => {
    const q = falQueue({ override: (c, i) => (c.method === "POST" && i < 2 ? Promise.reject(refused()) : undefined) });
    const r = await client(q.fetch).subscribe(T2I, { prompt: "x" });
    expect(r.data).toEqual(output);
    expect(q.calls.filter((c) => c.method === "POST")).toHaveLength(3);
    const run = falQueue({ override: (_, i) => (i === 0 ? Promise.reject(refused()) : json(output)) });
    expect((await client(run.fetch).run(T2I, { prompt: "x" })).data).toEqual(output);
    expect(run.calls).toHaveLength(2);
    const run503 = falQueue({ override: () => json({ detail: "down" }, 503) });
    await expect(client(run503.fetch).run(T2I, { prompt: "x" })).rejects.toMatchObject({ status: 503, retryable: true });
    expect(run503.calls).toHaveLength(1);
  });

  it("retries a submit, subscribe and sync run on 429 (the server took nothing), honouring Retry-After", async () => {
    const posts = (q: { calls: { method: string }[] }) => q.calls.filter((c) => c.method === "POST").length;
    const limited = (n: number, retryAfter = "0") =>
      falQueue({
        override: (c, i) =>
          c.method === "POST" && i < n ? json({ detail: "slow down" }, 429, { "retry-after": retryAfter }) : undefined,
      });
    const q = limited(2);
    expect((await client(q.fetch).submit(T2I, { prompt: "x" })).requestId).toBe("req-1");
    expect(posts(q)).toBe(3);
    const s = limited(1);
    expect((await client(s.fetch).subscribe(T2I, { prompt: "x" })).data).toEqual(output);
    expect(posts(s)).toBe(2);
    const run = falQueue({ override: (_, i) => (i < 3 ? json({ detail: "slow down" }, 429) : json(output)) });
    expect((await client(run.fetch).run(T2I, { prompt: "x" })).data).toEqual(output);
    expect(run.calls).toHaveLength(4);
    // Retry-After is honoured (here 0.05 s against a 1 ms backoff).
    const slow = limited(1, "0.05");
    const t0 = performance.now();
    await client(slow.fetch, { retry: { baseDelay: 1, maxDelay: 1000 } }).submit(T2I, { prompt: "x" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(posts(slow)).toBe(2);
    // Bounded by maxRetries, and still typed when it gives up.
    const always = limited(99);
    await expect(
      client(always.fetch, { retry: { maxRetries: 2, baseDelay: 1 } }).submit(T2I, { prompt: "x" }),
    ).rejects.toMatchObject({
      status: 429,
      retryable: true,
    });
    expect(posts(always)).toBe(3);
    // Not when the server says not to, nor with retries off.
    const no = falQueue({ override: () => json({ detail: "quota" }, 429, { "x-fal-retryable": "false" }) });
    await expect(client(no.fetch).submit(T2I, { prompt: "x" })).rejects.toMatchObject({ status: 429 });
    expect(posts(no)).toBe(1);
    const off = limited(1);
    await expect(client(off.fetch, { retry: false }).submit(T2I, { prompt: "x" })).rejects.toMatchObject({ status: 429 });
    expect(posts(off)).toBe(1);
  });

  it("recognises refused connections in nested causes and AggregateErrors only", () => {
    expect(isConnectionRefused(refused())).toBe(true);
    const agg = Object.assign(new AggregateError([{ code: "ECONNREFUSED" }, { code: "ECONNREFUSED" }]), {});
    expect(isConnectionRefused(new TypeError("fetch failed", { cause: agg }))).toBe(true);
    expect(
      isConnectionRefused(
        new TypeError("fetch failed", { cause: new AggregateError([{ code: "ECONNREFUSED" }, { code: "ETIMEDOUT" }]) }),
      ),
    ).toBe(false);
    expect(isConnectionRefused(reset())).toBe(false);
    expect(isConnectionRefused(new TypeError("Failed to fetch"))).toBe(false);
  });

  it("backs off exponentially with jitter, never below Retry-After, capped at maxDelay", () => {
    const o = { ...DEFAULT_RETRY, baseDelay: 100, maxDelay: 1000 };
    for (let i = 0; i < 50; i++) {
      const d0 = retryDelay(o, 0);
      const d2 = retryDelay(o, 2);
      expect(d0).toBeGreaterThanOrEqual(50);
      expect(d0).toBeLessThanOrEqual(100);
      expect(d2).toBeGreaterThanOrEqual(200);
      expect(d2).toBeLessThanOrEqual(400);
      expect(retryDelay(o, 10)).toBeLessThanOrEqual(1000);
    }
    expect(retryDelay(o, 0, "0.5")).toBe(500);
    expect(retryDelay(o, 0, "120")).toBe(1000);
    expect(retryDelay(o, 0, new Date(Date.now() + 60_000).toUTCString())).toBe(1000);
  });
});

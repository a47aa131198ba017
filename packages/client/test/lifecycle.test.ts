import type { QueueStatus } from "@kontext-sdk/schema";
import { describe, expect, it, vi } from "vitest";
import { nextPollWait, STREAM_IDLE_MS, STREAM_REOPENS } from "../src/client.js";
import { KontextApiError, KontextValidationError } from "../src/index.js";
import { APP, BASE, client, falQueue, json, output, sse, submitted } from "./helpers.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const input = { prompt: "a fox" };

describe("submit", () => {
  it("returns the queued job and maps options to fal's headers and query", async () => {
    const q = falQueue({ id: "r9" });
    const job = await client(q.fetch).submit(T2I, input, {
      webhookUrl: "https://me.example/hook?x=1",
      priority: "low",
      startTimeout: 30,
      hint: "lora-a",
      headers: { "x-trace": "t1" },
    });
    expect(job).toMatchObject({
      requestId: "r9",
      status: "IN_QUEUE",
      queuePosition: 2,
      statusUrl: `${APP}/r9/status`,
      responseUrl: `${APP}/r9`,
      cancelUrl: `${APP}/r9/cancel`,
    });
    const call = q.calls[0]!;
    expect(call.url).toBe(`${BASE}/${T2I}?fal_webhook=${encodeURIComponent("https://me.example/hook?x=1")}`);
    expect(Object.fromEntries(call.headers)).toMatchObject({
      "x-fal-queue-priority": "low",
      "x-fal-request-timeout": "30",
      "x-fal-runner-hint": "lora-a",
      "x-trace": "t1",
      "content-type": "application/json",
      authorization: "Key key-id:super-secret-value",
    });
    expect(JSON.parse(call.body!)).toEqual(input);
  });

  it("rejects a start timeout of 1 second or less before sending", async () => {
    const q = falQueue();
    await expect(client(q.fetch).submit(T2I, input, { startTimeout: 1 })).rejects.toBeInstanceOf(KontextValidationError);
    expect(q.calls).toHaveLength(0);
  });

  it("keeps a job whose answer is garbled when the request id came in a header", async () => {
    const q = falQueue({ override: (c) => (c.method === "POST" ? json("{oops", 200, { "x-fal-request-id": "r7" }) : undefined) });
    const job = await client(q.fetch).submit(T2I, input);
    expect(job.requestId).toBe("r7");
    expect(job.statusUrl).toBe(`${APP}/r7/status`);
  });
});

describe("status", () => {
  it.each([
    [202, { status: "IN_QUEUE", queue_position: 3 }],
    [202, { status: "IN_PROGRESS", logs: [{ message: "step 1" }] }],
    [200, { status: "COMPLETED", metrics: { inference_time: 2 } }],
  ])("HTTP %i with %o is a normal answer", async (code, body) => {
    const q = falQueue({ override: () => json(body, code) });
    expect(await client(q.fetch).status(T2I, "r1")).toEqual(body);
  });

  it("throws a typed error for an answer that is not a status", async () => {
    const q = falQueue({ override: () => json({ hello: 1 }) });
    await expect(client(q.fetch).status(T2I, "r1")).rejects.toBeInstanceOf(KontextApiError);
  });

  it("streams statuses until COMPLETED", async () => {
    const q = falQueue();
    const seen: string[] = [];
    for await (const s of client(q.fetch).streamStatus(T2I, "r1", { logs: true })) seen.push(s.status);
    expect(seen).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(q.calls[0]!.url).toBe(`${APP}/r1/status/stream?logs=1`);
    expect(q.calls[0]!.headers.get("accept")).toBe("text/event-stream");
  });

  it("a stream that closes early throws a retryable error", async () => {
    const q = falQueue({ override: () => sse([{ status: "IN_QUEUE", queue_position: 0 }]) });
    const it = client(q.fetch).streamStatus(T2I, "r1");
    await expect(
      (async () => {
        for await (const _ of it) {
        }
      })(),
    ).rejects.toMatchObject({ name: "KontextApiError", retryable: true });
  });

  it("a stream whose connection drops mid-way throws a typed KontextNetworkError with the cause", async () => {
    const q = falQueue({ override: () => sse([{ status: "IN_QUEUE", queue_position: 0 }], { drop: true }) });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const s of client(q.fetch).streamStatus(T2I, "r1")) seen.push(s.status);
    })().catch((e) => e);
    expect(seen).toEqual(["IN_QUEUE"]);
    expect(err).toMatchObject({ name: "KontextNetworkError", retryable: true, message: "status stream: TypeError: terminated" });
    expect(err.cause).toBeInstanceOf(TypeError);
  });
});

describe("result and cancel", () => {
  it("result returns data and the request id", async () => {
    const q = falQueue({ id: "r2" });
    expect(await client(q.fetch).result(T2I, "r2")).toEqual({ data: output, requestId: "r2" });
  });

  it("a non-2xx result is the job's error: 422 → KontextValidationError, others → KontextApiError", async () => {
    const detail = [
      { loc: ["body", "image_url"], msg: "Could not load the image", type: "image_load_error", input: "https://x" },
    ];
    const q = falQueue({ override: () => json({ detail }, 422, { "x-fal-request-id": "r3" }) });
    const err = await client(q.fetch)
      .result(T2I, "r3")
      .catch((e) => e);
    expect(err).toBeInstanceOf(KontextValidationError);
    expect(err).toMatchObject({ status: 422, requestId: "r3" });
    expect(err.issues).toEqual([
      {
        path: "/image_url",
        field: "image_url",
        value: "https://x",
        rule: "image_load_error",
        message: "image_url: Could not load the image",
      },
    ]);
    expect(err.message).toContain("image_url: Could not load the image");
    expect(err.message).not.toContain("Unprocessable Entity");

    const flat = falQueue({
      override: () => json({ detail: "Internal error", error_type: "runner_server_error" }, 500, { "x-fal-request-id": "r4" }),
    });
    const e2 = await client(flat.fetch)
      .result(T2I, "r4")
      .catch((e) => e);
    expect(e2).toBeInstanceOf(KontextApiError);
    expect(e2).toMatchObject({ status: 500, requestId: "r4", errorType: "runner_server_error", retryable: false });
    expect(e2.message).toContain("Internal error");
  });

  it("cancel returns the body's status, including documented outcomes sent with a 4xx", async () => {
    expect(await client(falQueue().fetch).cancel(T2I, "r1")).toEqual({ status: "CANCELLATION_REQUESTED" });
    const done = falQueue({ override: () => json({ status: "ALREADY_COMPLETED" }, 400) });
    expect(await client(done.fetch).cancel(T2I, "r1")).toEqual({ status: "ALREADY_COMPLETED" });
    const empty = falQueue({ override: () => new Response(null, { status: 202 }) });
    expect(await client(empty.fetch).cancel(T2I, "r1")).toEqual({ status: "CANCELLATION_REQUESTED" });
    const other = falQueue({ override: () => json({ detail: "nope" }, 403) });
    await expect(client(other.fetch).cancel(T2I, "r1")).rejects.toMatchObject({ status: 403 });
  });
});

describe("subscribe", () => {
  it("stream mode: submit → onEnqueue → status events → result", async () => {
    const q = falQueue({ id: "s1" });
    const order: string[] = [];
    const result = await client(q.fetch).subscribe(T2I, input, {
      onEnqueue: (id) => order.push(`enqueue ${id} after ${q.calls.length} call(s)`),
      onQueueUpdate: (s) => order.push(s.status),
    });
    expect(result).toEqual({ data: output, requestId: "s1" });
    expect(order).toEqual(["enqueue s1 after 1 call(s)", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(q.calls.map((c) => c.method + " " + new URL(c.url).pathname)).toEqual([
      `POST /${T2I}`,
      "GET /fal-ai/flux-pro/requests/s1/status/stream",
      "GET /fal-ai/flux-pro/requests/s1",
    ]);
  });

  it("poll mode walks 202s to the 200 and fetches the result", async () => {
    const q = falQueue({ id: "p1" });
    const seen: QueueStatus[] = [];
    const r = await client(q.fetch).subscribe(T2I, input, {
      mode: "poll",
      pollInterval: 1,
      logs: true,
      onQueueUpdate: (s) => seen.push(s),
    });
    expect(r.requestId).toBe("p1");
    expect(seen.map((s) => s.status)).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(q.calls.filter((c) => c.url.endsWith("/status?logs=1"))).toHaveLength(3);
  });

  it("falls back to polling when the stream breaks, without a second submit", async () => {
    const q = falQueue({
      id: "f1",
      statuses: [{ status: "IN_PROGRESS" }, { status: "COMPLETED" }],
      override: (c) => (c.url.endsWith("/stream") ? sse([{ status: "IN_QUEUE", queue_position: 4 }], { drop: true }) : undefined),
    });
    const seen: string[] = [];
    const r = await client(q.fetch).subscribe(T2I, input, { pollInterval: 1, onQueueUpdate: (s) => seen.push(s.status) });
    expect(r.data).toEqual(output);
    expect(seen).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(q.calls.filter((c) => c.method === "POST")).toHaveLength(1);
    expect(q.calls.filter((c) => c.url.endsWith("/status"))).toHaveLength(2);
  });

  it("an error thrown by onQueueUpdate reaches the caller instead of looking like a broken stream", async () => {
    for (const mode of ["stream", "poll"] as const) {
      const q = falQueue();
      const boom = new Error("callback failed");
      const p = client(q.fetch).subscribe(T2I, input, {
        mode,
        pollInterval: 1,
        onQueueUpdate: () => {
          throw boom;
        },
      });
      await expect(p).rejects.toBe(boom);
      expect(q.calls.filter((c) => c.url.endsWith("/status"))).toHaveLength(mode === "poll" ? 1 : 0);
    }
  });

  it("a stream silent for 30 s is reopened, and the reopened stream carries on (a quiet run stays on the stream)", async () => {
    vi.useFakeTimers();
    try {
      let opens = 0;
      const q = falQueue({
        override: (c) => {
          if (!c.url.endsWith("/stream")) return undefined;
          // The first stream says IN_PROGRESS, then nothing (a long quiet run); the second one finishes.
          return ++opens === 1
            ? sse([{ status: "IN_PROGRESS" }], { hang: true })
            : sse([{ status: "IN_PROGRESS" }, { status: "COMPLETED" }]);
        },
      });
      const seen: string[] = [];
      const p = client(q.fetch).subscribe(T2I, input, { onQueueUpdate: (s) => seen.push(s.status) });
      await vi.advanceTimersByTimeAsync(STREAM_IDLE_MS - 1);
      expect(q.calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      expect((await p).data).toEqual(output);
      expect(q.calls.map((c) => new URL(c.url).pathname.split("/").pop())).toEqual([
        "text-to-image",
        "stream",
        "stream",
        "req-1",
      ]);
      expect(seen).toEqual(["IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it(`a stream that stays silent through ${STREAM_REOPENS} reopens is left for polling (a half-open connection must not hang)`, async () => {
    vi.useFakeTimers();
    try {
      const q = falQueue({
        statuses: [{ status: "COMPLETED" }],
        override: (c) =>
          c.url.endsWith("/stream") ? sse([{ status: "IN_QUEUE", queue_position: 0 }], { hang: true }) : undefined,
      });
      const p = client(q.fetch).subscribe(T2I, input);
      const paths = () => q.calls.map((c) => new URL(c.url).pathname.split("/").pop());
      for (let open = 1; open <= STREAM_REOPENS + 1; open++) {
        await vi.advanceTimersByTimeAsync(STREAM_IDLE_MS - 1);
        expect(paths()).toEqual(["text-to-image", ...Array(open).fill("stream")]);
        await vi.advanceTimersByTimeAsync(1);
      }
      await vi.advanceTimersByTimeAsync(250);
      expect(paths()).toEqual(["text-to-image", ...Array(STREAM_REOPENS + 1).fill("stream"), "status", "req-1"]);
      expect((await p).data).toEqual(output);
    } finally {
      vi.useRealTimers();
    }
  });

  it("the reopens are bounded per job: silences after events still count", async () => {
    vi.useFakeTimers();
    try {
      const q = falQueue({
        statuses: [{ status: "COMPLETED" }],
        override: (c) => (c.url.endsWith("/stream") ? sse([{ status: "IN_PROGRESS" }], { hang: true }) : undefined),
      });
      const seen: string[] = [];
      const p = client(q.fetch).subscribe(T2I, input, { onQueueUpdate: (s) => seen.push(s.status) });
      await vi.advanceTimersByTimeAsync((STREAM_REOPENS + 1) * STREAM_IDLE_MS + 250);
      expect((await p).data).toEqual(output);
      expect(q.calls.filter((c) => c.url.endsWith("/stream"))).toHaveLength(STREAM_REOPENS + 1);
      expect(q.calls.filter((c) => c.url.endsWith("/status"))).toHaveLength(1);
      expect(q.calls.filter((c) => c.method === "POST")).toHaveLength(1);
      expect(seen).toEqual([...Array(STREAM_REOPENS + 1).fill("IN_PROGRESS"), "COMPLETED"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("falls back to polling when the stream path is not served", async () => {
    const q = falQueue({ override: (c) => (c.url.endsWith("/stream") ? json({ detail: "Not Found" }, 404) : undefined) });
    const r = await client(q.fetch).subscribe(T2I, input, { pollInterval: 1 });
    expect(r.data).toEqual(output);
  });

  it("a job that fails reaches COMPLETED and its error comes from the result", async () => {
    const q = falQueue({
      result: () => json({ detail: [{ loc: ["body", "prompt"], msg: "flagged", type: "content_policy" }] }, 422),
    });
    await expect(client(q.fetch).subscribe(T2I, input)).rejects.toMatchObject({
      name: "KontextValidationError",
      issues: [{ field: "prompt", rule: "content_policy" }],
    });
  });

  it("an undocumented terminal status (FAILED) also goes to the result", async () => {
    const q = falQueue({ statuses: [{ status: "FAILED" }], result: () => json({ detail: "boom" }, 500) });
    await expect(client(q.fetch).subscribe(T2I, input, { mode: "poll", pollInterval: 1 })).rejects.toMatchObject({ status: 500 });
  });

  it("follows a same-origin response_url", async () => {
    const q = falQueue({
      override: (c) =>
        c.method === "POST"
          ? json({ ...submitted("z1"), response_url: `${BASE}/custom/z1/out`, status_url: `${BASE}/custom/z1/status` })
          : undefined,
    });
    await client(q.fetch).subscribe(T2I, input);
    expect(q.calls.map((c) => c.url).slice(1)).toEqual([`${BASE}/custom/z1/status/stream`, `${BASE}/custom/z1/out`]);
  });
});

describe("adaptive polling", () => {
  it("starts fast, grows 1.5× per quiet poll, caps at 2.5 s, and drops back when the job starts", () => {
    const waits: number[] = [];
    let w = 250;
    for (let i = 0; i < 10; i++) {
      w = nextPollWait(w, "IN_QUEUE", "IN_QUEUE");
      waits.push(w);
    }
    expect(waits.slice(0, 3)).toEqual([375, 562.5, 843.75]);
    expect(Math.max(...waits)).toBe(2500);
    expect(nextPollWait(2500, "IN_QUEUE", "IN_PROGRESS")).toBe(250);
    expect(nextPollWait(250, "IN_PROGRESS", "IN_PROGRESS")).toBe(375);
  });

  it("uses the adaptive waits when no pollInterval is given", async () => {
    vi.useFakeTimers();
    try {
      const q = falQueue();
      const p = client(q.fetch).subscribe(T2I, input, { mode: "poll" });
      await vi.advanceTimersByTimeAsync(249);
      expect(q.calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(q.calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(375);
      expect(q.calls).toHaveLength(3); // IN_PROGRESS now: back to 250 ms
      await vi.advanceTimersByTimeAsync(250);
      expect((await p).data).toEqual(output);
    } finally {
      vi.useRealTimers();
    }
  });
});

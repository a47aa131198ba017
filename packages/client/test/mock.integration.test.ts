import { createKontextMock, type FaultRule, type KontextMockOptions } from "@kontext-sdk/mocks";
import { startMockServer } from "@kontext-sdk/mocks/server";
import { type EndpointId, endpoints } from "@kontext-sdk/schema";
import { describe, expect, it } from "vitest";
import {
  createKontextClient,
  KontextApiError,
  KontextCancelledError,
  KontextNetworkError,
  KontextTimeoutError,
  KontextValidationError,
} from "../src/index.js";

const fast = { queueSteps: 1, progressSteps: 2, stepMs: 5 };
const inputs: Record<string, object> = {
  "text-to-image": { prompt: "a red fox" },
  edit: { prompt: "a red fox", image_url: "https://example.com/in.png" },
  multi: { prompt: "a red fox", image_urls: ["https://example.com/a.png", "https://example.com/b.png"] },
};
const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;

function setup(options: KontextMockOptions = {}, client: Parameters<typeof createKontextClient>[0] = {}) {
  const mock = createKontextMock({ timeline: fast, ...options });
  const kontext = createKontextClient({
    credentials: "mock-key",
    fetch: mock.fetch,
    retry: { baseDelay: 1, maxDelay: 5 },
    ...client,
  });
  const ops = () => mock.requests.map((r) => r.operation);
  return { mock, kontext, ops };
}

describe("against the mock (mock.fetch)", () => {
  it.each(Object.keys(endpoints) as EndpointId[])("%s: subscribe in stream and poll mode, then run", async (id) => {
    const { mock, kontext } = setup();
    const input = inputs[endpoints[id].kind] as never;
    for (const mode of ["stream", "poll"] as const) {
      const updates: string[] = [];
      let enqueued = "";
      const r = await kontext.subscribe(id, input, {
        mode,
        pollInterval: 2,
        logs: true,
        onEnqueue: (rid) => {
          enqueued = rid;
        },
        onQueueUpdate: (s) => updates.push(s.status),
      });
      expect(r.requestId).toBe(enqueued);
      expect(r.data.images.length).toBeGreaterThan(0);
      expect(r.data.images[0]!.url).toMatch(/^https?:\/\//);
      expect(updates.at(-1)).toBe("COMPLETED");
      expect(mock.jobs.get(r.requestId)?.state).toBe("COMPLETED");
    }
    const sync = await kontext.run(id, input);
    expect(sync.data.images.length).toBeGreaterThan(0);
    expect(mock.requests.filter((r) => r.operation === "submit")).toHaveLength(2);
    for (const r of mock.requests) expect(JSON.stringify(r)).not.toContain("mock-key");
  });

  it("status, result and cancel by request id (resume after onEnqueue)", async () => {
    const { kontext } = setup({ timeline: { queueSteps: 50, progressSteps: 1, stepMs: 1000 } });
    const job = await kontext.submit(T2I, { prompt: "a fox" });
    const s = await kontext.status(T2I, job.requestId, { logs: true });
    expect(s.status).toBe("IN_QUEUE");
    await expect(kontext.result(T2I, job.requestId)).rejects.toBeInstanceOf(KontextApiError);
    const c = await kontext.cancel(T2I, job.requestId);
    expect(["OK", "CANCELLATION_REQUESTED"]).toContain(c.status);
  });

  it("a dropped status stream falls back to polling, with one submit", async () => {
    // Steps long enough that the stream connects before the job moves on (the drop needs a second event).
    const { kontext, ops } = setup({
      timeline: { queueSteps: 1, progressSteps: 1, stepMs: 100 },
      faults: [{ kind: "stream-drop", afterEvents: 1 }],
    });
    const r = await kontext.subscribe(T2I, { prompt: "a fox" }, { pollInterval: 2 });
    expect(r.data.images.length).toBeGreaterThan(0);
    expect(ops().filter((o) => o === "submit")).toHaveLength(1);
    expect(ops()).toContain("stream");
    expect(ops()).toContain("status");
  });

  it.each<[string, FaultRule]>([
    ["429 with Retry-After", { operation: "status", kind: "status", status: 429, retryAfter: 0, times: 2 }],
    ["503 burst", { operation: ["status", "result"], kind: "status", status: 503, times: 3 }],
    ["connection reset", { operation: ["status", "result"], kind: "reset", times: 2 }],
    ["malformed JSON", { operation: "status", kind: "malformed-json", times: 2 }],
    ["an HTML error page", { operation: "result", kind: "html", status: 502, times: 1 }],
  ])("recovers from %s on idempotent calls", async (_, fault) => {
    const { kontext, ops } = setup({ faults: [fault] });
    const r = await kontext.subscribe(T2I, { prompt: "a fox" }, { mode: "poll", pollInterval: 2 });
    expect(r.data.images.length).toBeGreaterThan(0);
    expect(ops().filter((o) => o === "submit")).toHaveLength(1);
  });

  it.each<[string, FaultRule]>([
    ["503", { operation: "submit", kind: "status", status: 503 }],
    ["a reset", { operation: "submit", kind: "reset" }],
    ["malformed JSON", { operation: "submit", kind: "malformed-json" }],
  ])("never submits twice after %s on submit", async (_, fault) => {
    const { kontext, ops } = setup({ faults: [fault] });
    await kontext.subscribe(T2I, { prompt: "a fox" }).catch(() => {});
    expect(ops().filter((o) => o === "submit")).toHaveLength(1);
  });

  it("retries a submit answered 429 (nothing was queued): one job, exactly 1 + the 429s submits", async () => {
    const { mock, kontext, ops } = setup({
      faults: [{ operation: "submit", kind: "status", status: 429, retryAfter: 0, times: 2 }],
    });
    const r = await kontext.subscribe(T2I, { prompt: "a fox" });
    expect(r.data.images.length).toBeGreaterThan(0);
    expect(ops().filter((o) => o === "submit")).toHaveLength(3);
    expect(mock.jobs.size).toBe(1);
    const always = setup({ faults: [{ operation: "submit", kind: "status", status: 429, retryAfter: 0 }] });
    await expect(always.kontext.subscribe(T2I, { prompt: "a fox" })).rejects.toMatchObject({ status: 429, retryable: true });
    expect(always.ops().filter((o) => o === "submit")).toHaveLength(4);
    expect(always.mock.jobs.size).toBe(0);
  });

  it("a reset on submit is a typed KontextNetworkError, submitted once", async () => {
    const { kontext, ops } = setup({ faults: [{ operation: "submit", kind: "reset" }] });
    const e = await kontext.subscribe(T2I, { prompt: "a fox" }).catch((x) => x);
    expect(e).toBeInstanceOf(KontextNetworkError);
    expect(e).toMatchObject({ retryable: true });
    expect(ops().filter((o) => o === "submit")).toHaveLength(1);
  });

  it("a job failing at its result surfaces typed errors (422 with field issues, 500)", async () => {
    const v = setup({ faults: [{ kind: "fail-at-result", status: 422 }] });
    const e = await v.kontext.subscribe(T2I, { prompt: "a fox" }).catch((x) => x);
    expect(e).toBeInstanceOf(KontextValidationError);
    expect(e.status).toBe(422);
    expect(e.issues.length).toBeGreaterThan(0);
    expect(e.requestId).toBeTruthy();
    const a = setup({ faults: [{ kind: "fail-at-result", status: 500 }] });
    const e2 = await a.kontext.subscribe(T2I, { prompt: "a fox" }).catch((x) => x);
    expect(e2).toBeInstanceOf(KontextApiError);
    expect(e2.status).toBe(500);
  });

  it("the mock's own 422 maps to field issues (client validation off), at submit like a gateway", async () => {
    const { kontext } = setup({ validateAt: "submit" }, { validate: false });
    const e = await kontext.submit(T2I, { prompt: "a fox", num_images: 9 }).catch((x) => x);
    expect(e).toBeInstanceOf(KontextValidationError);
    expect(e.issues).toEqual(expect.arrayContaining([expect.objectContaining({ field: "num_images" })]));
    expect(e.message).not.toContain("Unprocessable Entity");
  });

  it("the mock's own 422 at the result, as fal does: accepted at submit, refused by the result", async () => {
    const { kontext, ops } = setup({ validateAt: "result" }, { validate: false });
    const job = kontext.start(T2I, { prompt: "a fox", num_images: 9 });
    const requestId = await job.requestId;
    const e = await job.result().catch((x) => x);
    expect(e).toBeInstanceOf(KontextValidationError);
    expect(e).toMatchObject({ status: 422, requestId });
    expect(e.issues).toEqual(expect.arrayContaining([expect.objectContaining({ field: "num_images" })]));
    expect(ops().filter((o) => o === "submit")).toHaveLength(1);
    expect(ops().at(-1)).toBe("result");
  });

  it("without credentials the mock's 401 is a typed error", async () => {
    const mock = createKontextMock({ timeline: fast });
    const kontext = createKontextClient({ fetch: mock.fetch, credentials: () => undefined });
    await expect(kontext.submit(T2I, { prompt: "a fox" })).rejects.toMatchObject({ name: "KontextApiError", status: 401 });
  });

  it("timeout rejects with the request id and cancels the job on the mock", async () => {
    const { kontext, mock, ops } = setup({ timeline: { queueSteps: 100, progressSteps: 1, stepMs: 1000 } });
    const e = await kontext.subscribe(T2I, { prompt: "a fox" }, { timeout: 30 }).catch((x) => x);
    expect(e).toBeInstanceOf(KontextTimeoutError);
    await new Promise((r) => setTimeout(r, 20));
    expect(ops()).toContain("cancel");
    const job = mock.jobs.get(e.requestId);
    expect(job === undefined || job.cancelled || job.state === "COMPLETED").toBe(true);
  });
});

describe("the job handle against the mock (mock.fetch)", () => {
  it("resumes a job by id from a second client: no submit, the same result", async () => {
    const { mock, kontext, ops } = setup({ timeline: { queueSteps: 2, progressSteps: 2, stepMs: 20 } });
    const requestId = await kontext.start(T2I, { prompt: "a fox" }).requestId;
    const later = createKontextClient({ credentials: "mock-key", fetch: mock.fetch });
    const job = later.job(T2I, requestId);
    const seen: string[] = [];
    for await (const status of job.statuses()) seen.push(status.status);
    expect(seen.at(-1)).toBe("COMPLETED");
    const { data, requestId: id } = await job.result();
    expect(id).toBe(requestId);
    expect(data.images.length).toBeGreaterThan(0);
    expect(ops().filter((o) => o === "submit")).toHaveLength(1);
    expect(ops().filter((o) => o === "result")).toHaveLength(1);
  });

  it("cancel() before the id is known cancels the job when the submit answers", async () => {
    const { mock, kontext, ops } = setup({
      timeline: { queueSteps: 50, progressSteps: 1, stepMs: 1000 },
      faults: [{ operation: "submit", kind: "latency", ms: 50 }],
    });
    const job = kontext.start(T2I, { prompt: "a fox" });
    const cancelled = job.cancel();
    expect(ops()).not.toContain("cancel");
    await cancelled;
    const requestId = await job.requestId;
    expect(ops()).toEqual(["submit", "cancel"]);
    const error = await job.result().catch((x) => x);
    expect(error).toBeInstanceOf(KontextCancelledError);
    expect(error.requestId).toBe(requestId);
    await job.done;
    const remote = mock.jobs.get(requestId);
    expect(remote === undefined || remote.cancelled || remote.state !== "IN_PROGRESS").toBe(true);
    expect(ops()).toEqual(["submit", "cancel"]);
  });

  it("a stream broken mid-job falls back to polling and finishes the job", async () => {
    const { kontext, ops } = setup({
      timeline: { queueSteps: 1, progressSteps: 2, stepMs: 60 },
      faults: [{ kind: "stream-drop", afterEvents: 1 }],
    });
    const job = kontext.start(T2I, { prompt: "a fox" }, { pollInterval: 5 });
    const seen: string[] = [];
    for await (const status of job.statuses()) seen.push(status.status);
    expect(seen.at(-1)).toBe("COMPLETED");
    expect((await job.result()).data.images.length).toBeGreaterThan(0);
    expect(ops().filter((o) => o === "stream")).toHaveLength(1);
    expect(ops()).toContain("status");
    expect(ops().filter((o) => o === "submit")).toHaveLength(1);
  });

  it("a 404 on resume ends with a typed error, and no request follows it", async () => {
    const { mock, kontext } = setup();
    const job = kontext.job(T2I, "00000000-0000-4000-8000-000000000000");
    const error = await job.result().catch((x) => x);
    expect(error).toBeInstanceOf(KontextApiError);
    expect(error).toMatchObject({ status: 404, requestId: "00000000-0000-4000-8000-000000000000" });
    const count = mock.requests.length;
    expect(count).toBeLessThanOrEqual(2); // the stream's 404, then one status poll that confirms it
    // Several poll intervals later, still nothing: neither the handle nor a second result() call polls.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect(job.result()).rejects.toBe(error);
    await job.done;
    expect(mock.requests).toHaveLength(count);
  });

  it("a 422 at the result (fal's timing) is a KontextValidationError with the job's id", async () => {
    const { kontext } = setup({ faults: [{ kind: "fail-at-result", status: 422 }] });
    const job = kontext.start(T2I, { prompt: "a fox" });
    const requestId = await job.requestId;
    const error = await job.result().catch((x) => x);
    expect(error).toBeInstanceOf(KontextValidationError);
    expect(error).toMatchObject({ status: 422, requestId });
    expect(error.issues.length).toBeGreaterThan(0);
  });
});

describe("against the mock server over loopback", () => {
  it("subscribes with a real SSE stream and runs on the sync path", async () => {
    const server = await startMockServer({ timeline: fast });
    try {
      const kontext = createKontextClient({ credentials: "k", baseUrl: server.url, syncBaseUrl: `${server.url}/sync` });
      const updates: string[] = [];
      const r = await kontext.subscribe(T2I, { prompt: "a fox" }, { onQueueUpdate: (s) => updates.push(s.status) });
      expect(updates.at(-1)).toBe("COMPLETED");
      const image = await fetch(r.data.images[0]!.url);
      expect(image.ok).toBe(true);
      expect((await kontext.run(T2I, { prompt: "a fox" })).data.images.length).toBeGreaterThan(0);
      expect(server.mock.requests.map((q) => q.operation)).toEqual(["submit", "stream", "result", "files", "run"]);
    } finally {
      await server.close();
    }
  });

  it("retries a submit whose connection was refused (real Node fetch errors), and gives up", async () => {
    const server = await startMockServer({ timeline: fast });
    const url = server.url;
    await server.close();
    let calls = 0;
    const counting: typeof fetch = (...args) => {
      calls++;
      return fetch(...args);
    };
    const kontext = createKontextClient({
      credentials: "k",
      baseUrl: url,
      fetch: counting,
      retry: { maxRetries: 2, baseDelay: 1 },
    });
    const e = await kontext.submit(T2I, { prompt: "a fox" }).catch((x) => x);
    expect(e).toBeInstanceOf(KontextNetworkError);
    expect(e.cause).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/^POST \/fal-ai\/flux-pro\/kontext\/text-to-image: fetch failed \(ECONNREFUSED\)$/);
    expect(calls).toBe(3);
  });
});

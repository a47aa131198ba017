import { afterAll, describe, expect, it } from "vitest";
import { createKontextMock, createManualClock } from "../src/index.js";
import { JSON_HEADERS, KEY, QUEUE, setup, T2I, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

const ENDPOINTS = [
  ["fal-ai/flux-pro/kontext/text-to-image", { prompt: "a fox" }],
  ["fal-ai/flux-pro/kontext/max/text-to-image", { prompt: "a fox" }],
  ["fal-ai/flux-pro/kontext", { prompt: "add a hat", image_url: "https://example.org/a.png" }],
  ["fal-ai/flux-pro/kontext/max", { prompt: "add a hat", image_url: "data:image/png;base64,AAAA" }],
  ["fal-ai/flux-pro/kontext/multi", { prompt: "merge", image_urls: ["https://example.org/a.png", "https://example.org/b.png"] }],
  ["fal-ai/flux-pro/kontext/max/multi", { prompt: "merge", image_urls: ["https://example.org/a.png"] }],
] as const;

describe("submit", () => {
  it.each(ENDPOINTS)("queues %s and answers URLs on the request's origin, owner/app only", async (endpoint, input) => {
    const t = setup();
    const { response, body } = await t.submit(input, endpoint);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-fal-request-id")).toBe(body.request_id);
    expect(body).toEqual({
      status: "IN_QUEUE",
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      queue_position: 1,
      response_url: `${QUEUE}/fal-ai/flux-pro/requests/${body.request_id}`,
      status_url: `${QUEUE}/fal-ai/flux-pro/requests/${body.request_id}/status`,
      cancel_url: `${QUEUE}/fal-ai/flux-pro/requests/${body.request_id}/cancel`,
    });
    expect(t.mock.jobs.get(body.request_id)).toMatchObject({ endpoint, state: "IN_QUEUE", sync: false });
  });

  it("builds URLs from whatever origin was called", async () => {
    const mock = createKontextMock({ clock: createManualClock() });
    const r = await mock.fetch("http://localhost:9999/fal-ai/flux-pro/kontext/text-to-image", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ prompt: "x" }),
    });
    const body = await r.json();
    expect(body.status_url).toBe(`http://localhost:9999/fal-ai/flux-pro/requests/${body.request_id}/status`);
  });

  it("gives unique request ids, repeatable with a seed", async () => {
    const ids = async (seed?: number) => {
      const t = setup(seed === undefined ? {} : { seed });
      return [(await t.submit({ prompt: "a" })).body.request_id, (await t.submit({ prompt: "a" })).body.request_id];
    };
    const [a, b] = await ids();
    expect(a).not.toBe(b);
    expect(await ids(7)).toEqual(await ids(7));
  });
});

describe("status", () => {
  it("moves IN_QUEUE (falling position) → IN_PROGRESS (growing logs) → COMPLETED with metrics", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "a fox" });
    const status = async (logs?: string) => {
      const r = await t.call(`${body.status_url}${logs ? `?logs=${logs}` : ""}`);
      return { code: r.status, body: await r.json() };
    };
    expect(await status()).toEqual({ code: 202, body: expect.objectContaining({ status: "IN_QUEUE", queue_position: 1 }) });
    t.clock.advance(100);
    expect(await status()).toEqual({ code: 202, body: expect.objectContaining({ status: "IN_QUEUE", queue_position: 0 }) });
    t.clock.advance(100);
    const first = await status("1");
    expect(first.code).toBe(202);
    expect(first.body.status).toBe("IN_PROGRESS");
    expect(first.body.logs).toHaveLength(1);
    expect(first.body.logs[0]).toEqual({
      message: expect.any(String),
      level: "INFO",
      source: "user",
      timestamp: "2025-01-01T00:00:00.200Z",
    });
    expect((await status()).body).not.toHaveProperty("logs");
    expect((await status("0")).body).not.toHaveProperty("logs");
    t.clock.advance(100);
    expect((await status("true")).body.logs).toHaveLength(2);
    t.clock.advance(100);
    expect((await status("1")).body.logs).toHaveLength(3);
    t.clock.advance(100);
    const done = await status("1");
    expect(done.code).toBe(200);
    expect(done.body).toMatchObject({
      status: "COMPLETED",
      request_id: body.request_id,
      metrics: { inference_time: expect.any(Number) },
    });
    expect(done.body.logs).toHaveLength(3);
    expect(done.body).not.toHaveProperty("error");
    expect(t.mock.jobs.get(body.request_id)?.state).toBe("COMPLETED");
  });

  it("answers 404 for an unknown id and for the wrong app path", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    const r = await t.call("/fal-ai/flux-pro/requests/nope/status");
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ detail: "Request not found", error_type: "request_not_found" });
    expect(r.headers.get("x-fal-error-type")).toBe("request_not_found");
    const wrongApp = await t.mock.fetch(`${QUEUE}/fal-ai/flux-pro/kontext/requests/${body.request_id}/status`, { headers: KEY });
    expect(wrongApp.status).toBe(404);
  });

  it("queues with zero queue steps start at position 0", async () => {
    const t = setup({ timeline: { queueSteps: 0, progressSteps: 1, stepMs: 10 } });
    const { body } = await t.submit({ prompt: "x" });
    expect(body.queue_position).toBe(0);
    expect((await (await t.call(body.status_url)).json()).status).toBe("IN_PROGRESS");
  });
});

describe("status stream", () => {
  async function readEvents(response: Response, onEvent?: (n: number) => void) {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: any[] = [];
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let i = buffer.indexOf("\n\n");
      while (i >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        expect(block.startsWith("data: ")).toBe(true);
        events.push(JSON.parse(block.slice(6)));
        onEvent?.(events.length);
        i = buffer.indexOf("\n\n");
      }
    }
    return events;
  }

  it("sends an event per change and closes after COMPLETED, advancing with the manual clock", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "a fox" });
    const r = await t.mock.fetch(`${body.status_url}/stream?logs=1`, { headers: KEY });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    // Each event received moves the clock one step, so the whole timeline plays out without sleeping.
    const events = await readEvents(r, () => queueMicrotask(() => t.clock.advance(100)));
    expect(events.map((e) => e.status)).toEqual([
      "IN_QUEUE",
      "IN_QUEUE",
      "IN_PROGRESS",
      "IN_PROGRESS",
      "IN_PROGRESS",
      "COMPLETED",
    ]);
    expect(events.map((e) => e.queue_position)).toEqual([1, 0, undefined, undefined, undefined, undefined]);
    expect(events.map((e) => e.logs.length)).toEqual([0, 0, 1, 2, 3, 3]);
    expect(t.clock.pendingTimers).toBe(0);
  });

  it("without logs sends only state changes", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "a fox" });
    const r = await t.mock.fetch(`${body.status_url}/stream`, { headers: KEY });
    const pending = readEvents(r);
    t.clock.advance(1000);
    const events = await pending;
    expect(events.map((e) => e.status)).toEqual(["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
  });

  it("sends an SSE keep-alive comment through a long quiet phase, and none on a busy one", async () => {
    const t = setup({ timeline: { queueSteps: 0, progressSteps: 1, stepMs: 25_000 } });
    const { body } = await t.submit({ prompt: "a slow fox" });
    const r = await t.mock.fetch(`${body.status_url}/stream`, { headers: KEY });
    const text = r.text();
    for (let i = 0; i < 5; i++) t.clock.advance(5_000);
    const received = await text;
    expect(received.match(/^: keep-alive$/gm)).toHaveLength(2);
    expect(received.match(/^data: /gm)).toHaveLength(2);
    expect(received).toMatch(/"status":"COMPLETED"[^\n]*\n\n$/);

    const busy = setup();
    const quick = await busy.submit({ prompt: "a fox" });
    const stream = busy.mock.fetch(`${quick.body.status_url}/stream`, { headers: KEY }).then((x) => x.text());
    busy.clock.advance(1000);
    expect(await stream).not.toContain("keep-alive");
  });

  it("is spec-valid event by event", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "a fox" });
    const response = await t.mock.fetch(`${body.status_url}/stream?logs=1`, { headers: KEY });
    const checked = t.checker.check(`${body.status_url}/stream`, "GET", response.clone());
    t.clock.advance(1000);
    await checked;
    expect(t.checker.checked).toBe(2);
  });

  it("closes when a queued job is cancelled and stops its timer when the reader cancels", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "a" });
    const r = await t.mock.fetch(`${body.status_url}/stream`, { headers: KEY });
    const pending = readEvents(r);
    await t.call(body.cancel_url, { method: "PUT" });
    expect((await pending).map((e) => e.status)).toEqual(["IN_QUEUE"]);

    const second = (await t.submit({ prompt: "b" })).body;
    const s = await t.mock.fetch(`${second.status_url}/stream`, { headers: KEY });
    await s.body!.cancel();
    expect(t.clock.pendingTimers).toBe(0);
  });

  it("answers 404 for an unknown id", async () => {
    const t = setup();
    expect((await t.call("/fal-ai/flux-pro/requests/nope/status/stream")).status).toBe(404);
  });
});

describe("result", () => {
  it("answers 400 'still in progress' before completion and the output after", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "a fox", seed: 5, num_images: 2 });
    const early = await t.call(body.response_url);
    expect(early.status).toBe(400);
    expect(await early.json()).toEqual({ detail: "Request is still in progress", error_type: "request_in_progress" });
    t.clock.advance(500);
    const r = await t.call(body.response_url);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-fal-request-id")).toBe(body.request_id);
    const out = await r.json();
    expect(out).toMatchObject({
      seed: 5,
      prompt: "a fox",
      has_nsfw_concepts: [false, false],
      timings: { inference: expect.any(Number) },
    });
    expect(out.images).toHaveLength(2);
    expect(out.images[1]).toEqual({
      url: `${QUEUE}/files/${body.request_id}/1.jpeg`,
      content_type: "image/jpeg",
      file_name: "1.jpeg",
      file_size: expect.any(Number),
      width: 64,
      height: 64,
    });
  });

  it("answers 404 for an unknown id", async () => {
    const t = setup();
    const r = await t.call("/fal-ai/flux-pro/requests/0000");
    expect(r.status).toBe(404);
  });
});

describe("cancel", () => {
  it("removes a queued job", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    const r = await t.call(body.cancel_url, { method: "PUT" });
    expect([r.status, await r.json()]).toEqual([202, { status: "CANCELLATION_REQUESTED" }]);
    expect(t.mock.jobs.has(body.request_id)).toBe(false);
    expect((await t.call(body.status_url)).status).toBe(404);
    // Gone: the same flat 404 as status and result (fal's answer for an unknown id).
    const again = await t.call(body.cancel_url, { method: "PUT" });
    expect([again.status, await again.json()]).toEqual([404, { detail: "Request not found", error_type: "request_not_found" }]);
  });

  it("stops a running job: it completes at once and its result is a cancellation error", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    t.clock.advance(250);
    const r = await t.call(body.cancel_url, { method: "PUT" });
    expect([r.status, await r.json()]).toEqual([202, { status: "CANCELLATION_REQUESTED" }]);
    const s = await t.call(`${body.status_url}?logs=1`);
    expect(s.status).toBe(200);
    const status = await s.json();
    expect(status).toMatchObject({ status: "COMPLETED", error: "Request was cancelled", error_type: "client_cancelled" });
    expect(status.logs).toHaveLength(1);
    const result = await t.call(body.response_url);
    expect([result.status, await result.json()]).toEqual([
      400,
      { detail: "Request was cancelled", error_type: "client_cancelled" },
    ]);
    expect(t.mock.jobs.get(body.request_id)).toMatchObject({ cancelled: true, state: "COMPLETED" });
  });

  it("answers 400 ALREADY_COMPLETED once done", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    t.clock.advance(500);
    const r = await t.call(body.cancel_url, { method: "PUT" });
    expect([r.status, await r.json()]).toEqual([400, { status: "ALREADY_COMPLETED" }]);
    expect((await t.call(body.response_url)).status).toBe(200);
  });

  it("answers an unknown id with the flat 404 status and result give", async () => {
    const t = setup();
    const r = await t.call("/fal-ai/flux-pro/requests/unknown/cancel", { method: "PUT" });
    expect([r.status, await r.json()]).toEqual([404, { detail: "Request not found", error_type: "request_not_found" }]);
  });
});

describe("sync run", () => {
  it.each(ENDPOINTS)("answers the output of %s directly on /sync and on fal.run", async (endpoint, input) => {
    const t = setup();
    for (const url of [`${QUEUE}/sync/${endpoint}`, `https://fal.run/${endpoint}`]) {
      const r = await t.call(url, {
        method: "POST",
        body: JSON.stringify({ ...input, seed: 1 }),
        headers: { "content-type": "application/json" },
      });
      expect(r.status).toBe(200);
      const out = await r.json();
      expect(out.seed).toBe(1);
      const file = await t.mock.fetch(out.images[0].url);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe("image/jpeg");
    }
  });

  it("validates the body like submit", async () => {
    const t = setup();
    const r = await t.call(`https://fal.run/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "" }) });
    expect(r.status).toBe(422);
  });
});

describe("requests that fal refuses", () => {
  it("answers 401 without a valid Authorization, on every operation", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    for (const auth of [undefined, "", "Key", "Basic abc", "key abc", "Bearer"]) {
      const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
      const calls = [
        t.mock.fetch(`${QUEUE}/${T2I}`, { method: "POST", headers, body: '{"prompt":"x"}' }),
        t.mock.fetch(body.status_url, { headers }),
        t.mock.fetch(`${body.status_url}/stream`, { headers }),
        t.mock.fetch(body.response_url, { headers }),
        t.mock.fetch(body.cancel_url, { method: "PUT", headers }),
        t.mock.fetch(`https://fal.run/${T2I}`, { method: "POST", headers, body: '{"prompt":"x"}' }),
      ];
      for (const r of await Promise.all(calls)) {
        expect(r.status).toBe(401);
        expect(await r.json()).toEqual({ detail: "Authorization header is missing or invalid", error_type: "unauthorized" });
        expect(r.headers.get("x-fal-error-type")).toBe("unauthorized");
      }
    }
    expect((await t.call(body.status_url, { headers: { authorization: "Bearer gateway-token" } })).status).toBe(202);
  });

  it("accepts anything with auth: 'any'", async () => {
    const mock = createKontextMock({ auth: "any", clock: createManualClock() });
    const r = await mock.fetch(`${QUEUE}/${T2I}`, { method: "POST", body: '{"prompt":"x"}' });
    expect(r.status).toBe(200);
  });

  it("answers 404 Not Found for unknown paths and endpoints", async () => {
    const t = setup();
    for (const path of ["/", "/nope", "/fal-ai/flux-pro/kontext/nope", "/fal-ai/other/requests/x/status", "/files/x/0.png"]) {
      const r = await t.mock.fetch(`${QUEUE}${path}`, { method: path.includes("kontext") ? "POST" : "GET", headers: KEY });
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ detail: "Not Found", error_type: "not_found" });
    }
    expect((await t.mock.fetch(`${QUEUE}/${T2I}`, { headers: KEY })).status).toBe(405);
  });

  it("answers malformed JSON and an empty body with a 422 at loc body, as the proxy does", async () => {
    const t = setup();
    for (const body of ["{", "not json", '{"prompt": "x",}']) {
      const r = await t.call(`/${T2I}`, { method: "POST", body });
      expect(r.status).toBe(422);
      expect(await r.json()).toEqual({
        detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid", ctx: { error: expect.any(String) } }],
      });
    }
    const empty = await t.call(`/${T2I}`, { method: "POST", body: "" });
    expect([empty.status, await empty.json()]).toEqual([
      422,
      { detail: [{ loc: ["body"], msg: "Field required", type: "missing" }] },
    ]);
  });

  it("answers 422 in fal's shape with pydantic-style types (validateAt: submit)", async () => {
    const t = setup({ validateAt: "submit" });
    const cases: [unknown, unknown[]][] = [
      [{}, [{ loc: ["body", "prompt"], msg: "Field required", type: "missing" }]],
      [{ prompt: "x", num_images: 5 }, [{ loc: ["body", "num_images"], type: "less_than_equal", ctx: { le: 4 }, input: 5 }]],
      [{ prompt: "x", num_images: 0 }, [{ loc: ["body", "num_images"], type: "greater_than_equal", ctx: { ge: 1 }, input: 0 }]],
      [{ prompt: "x", guidance_scale: 21 }, [{ loc: ["body", "guidance_scale"], type: "less_than_equal", ctx: { le: 20 } }]],
      [{ prompt: "x", seed: -1 }, [{ loc: ["body", "seed"], type: "greater_than_equal" }]],
      [{ prompt: "x", aspect_ratio: "5:4" }, [{ loc: ["body", "aspect_ratio"], type: "literal_error", input: "5:4" }]],
      [
        { prompt: "x", output_format: "gif" },
        [{ loc: ["body", "output_format"], type: "literal_error", msg: "Input should be 'jpeg' or 'png'" }],
      ],
      [{ prompt: "x", safety_tolerance: 2 }, [{ loc: ["body", "safety_tolerance"], type: "string_type", input: 2 }]],
      [{ prompt: 3 }, [{ loc: ["body", "prompt"], type: "string_type" }]],
      [{ prompt: "x", num_images: 1.5 }, [{ loc: ["body", "num_images"], type: "int_type" }]],
      [
        { prompt: "x", num_image: 2 },
        [{ loc: ["body", "num_image"], type: "extra_forbidden", msg: "Extra inputs are not permitted" }],
      ],
      [{ prompt: "" }, [{ loc: ["body", "prompt"], type: "string_too_short" }]],
      [[1], [{ loc: ["body"], type: "model_attributes_type" }]],
    ];
    for (const [input, detail] of cases) {
      const r = await t.call(`/${T2I}`, { method: "POST", body: JSON.stringify(input) });
      expect(r.status, JSON.stringify(input)).toBe(422);
      const body = await r.json();
      expect(body.detail, JSON.stringify(input)).toEqual(detail.map((d) => expect.objectContaining(d)));
      for (const item of body.detail) expect(typeof item.msg).toBe("string");
    }
    const edit = await t.call("/fal-ai/flux-pro/kontext/max/multi", {
      method: "POST",
      body: JSON.stringify({ prompt: "x", image_urls: ["file:///etc/passwd"] }),
    });
    expect((await edit.json()).detail).toEqual([
      expect.objectContaining({ loc: ["body", "image_urls", 0], type: "string_pattern_mismatch" }),
    ]);
    expect(t.mock.jobs.size).toBe(0);
  });
});

describe("introspection", () => {
  it("records requests with the Authorization value redacted", async () => {
    const t = setup();
    await t.submit({ prompt: "x" }, T2I, "?fal_webhook=https://example.org/hook");
    const [entry] = t.mock.requests;
    expect(entry).toMatchObject({
      method: "POST",
      path: `/${T2I}`,
      query: { fal_webhook: "https://example.org/hook" },
      body: { prompt: "x" },
      operation: "submit",
    });
    expect(entry!.headers.authorization).toBe("Key [redacted]");
    expect(JSON.stringify(t.mock.requests)).not.toContain("secret");
  });

  it("keeps the request log bounded", async () => {
    const t = setup({ maxRecordedRequests: 3 });
    for (let i = 0; i < 5; i++) await t.call(`/fal-ai/flux-pro/requests/r${i}/status`);
    expect(t.mock.requests.map((r) => r.path)).toEqual([
      "/fal-ai/flux-pro/requests/r2/status",
      "/fal-ai/flux-pro/requests/r3/status",
      "/fal-ai/flux-pro/requests/r4/status",
    ]);
  });

  it("forgets completed jobs after completedTtlMs, files included", async () => {
    const t = setup({ completedTtlMs: 1000 });
    const { body } = await t.submit({ prompt: "x" });
    t.clock.advance(500 + 999);
    const out = await (await t.call(body.response_url)).json();
    expect((await t.mock.fetch(out.images[0].url)).status).toBe(200);
    t.clock.advance(1);
    expect((await t.call(body.response_url)).status).toBe(404);
    expect((await t.mock.fetch(out.images[0].url)).status).toBe(404);
    expect(t.mock.jobs.size).toBe(0);
  });

  it("sweeps expired jobs on any request, so memory stays bounded", async () => {
    const t = setup({ completedTtlMs: 100 });
    for (let i = 0; i < 50; i++) await t.submit({ prompt: `p${i}` });
    expect(t.mock.jobs.size).toBe(50);
    t.clock.advance(600);
    await t.call("/fal-ai/flux-pro/requests/x/status");
    expect(t.mock.jobs.size).toBe(0);
  });

  it("reset() forgets jobs, requests and added faults", async () => {
    const t = setup();
    await t.submit({ prompt: "x" });
    t.mock.addFault({ kind: "status", status: 429 });
    t.mock.reset();
    expect(t.mock.jobs.size).toBe(0);
    expect(t.mock.requests).toEqual([]);
    expect((await t.submit({ prompt: "x" })).response.status).toBe(200);
  });

  it("is the handler itself", async () => {
    const t = setup();
    expect(t.mock.handler).toBe(t.mock);
    const r = await t.mock(new Request(`${QUEUE}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: '{"prompt":"x"}' }));
    expect(r.status).toBe(200);
  });
});

describe("mock.fetch and aborts", () => {
  it("aborting a status stream after the headers breaks the body and stops its timer", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    const controller = new AbortController();
    const r = await t.mock.fetch(`${body.status_url}/stream`, { headers: KEY, signal: controller.signal });
    const reader = r.body!.getReader();
    await reader.read();
    expect(t.clock.pendingTimers).toBe(1);
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: "AbortError" });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(t.clock.pendingTimers).toBe(0);
  });

  it("an aborted signal rejects before anything is recorded", async () => {
    const t = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(
      t.mock.fetch(`${QUEUE}/${T2I}`, { method: "POST", headers: KEY, body: "{}", signal: controller.signal }),
    ).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(t.mock.requests).toEqual([]);
  });

  it("reset() ends open streams", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    const r = await t.mock.fetch(`${body.status_url}/stream`, { headers: KEY });
    const text = r.text();
    t.mock.reset();
    expect((await text).match(/"status":"\w+"/g)).toEqual(['"status":"IN_QUEUE"']);
    expect(t.clock.pendingTimers).toBe(0);
  });
});

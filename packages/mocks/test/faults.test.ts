import { afterAll, describe, expect, it } from "vitest";
import { FAULT_HEADER } from "../src/index.js";
import { KEY, QUEUE, setup, T2I, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

describe("status faults", () => {
  it("answers the given status, body and Retry-After", async () => {
    const t = setup({ faults: [{ kind: "status", status: 429, retryAfter: 3, operation: "submit", times: 1 }] });
    const first = await t.submit({ prompt: "x" });
    expect(first.response.status).toBe(429);
    expect(first.response.headers.get("retry-after")).toBe("3");
    expect(first.response.headers.get("x-fal-retryable")).toBe("true");
    expect(first.body).toEqual({ detail: "Too many requests", error_type: "rate_limited" });
    expect(t.mock.jobs.size).toBe(0);
    // `times: 1`: the retry goes through.
    expect((await t.submit({ prompt: "x" })).response.status).toBe(200);
  });

  it("defaults to an error the spec lists for the operation", async () => {
    const t = setup({ faults: [{ kind: "status", operation: ["status", "result", "run"] }] });
    const s = await t.call("/fal-ai/flux-pro/requests/x/status");
    expect(s.status).toBe(429);
    const r = await t.call("/fal-ai/flux-pro/requests/x");
    expect([r.status, r.headers.get("x-fal-error-type")]).toEqual([503, "runner_scheduling_failure"]);
    const run = await t.call(`https://fal.run/${T2I}`, { method: "POST", body: '{"prompt":"x"}' });
    expect((await run.json()).error_type).toBe("request_timeout");
    expect(run.status).toBe(504);
  });

  it("matches by endpoint, skip and times", async () => {
    const t = setup();
    t.mock.addFault({ kind: "status", status: 429, endpoint: "fal-ai/flux-pro/kontext/max", skip: 1, times: 2 });
    const max = async () =>
      (await t.submit({ prompt: "x", image_url: "https://e.org/a.png" }, "fal-ai/flux-pro/kontext/max")).response.status;
    expect((await t.submit({ prompt: "x" })).response.status).toBe(200);
    expect([await max(), await max(), await max(), await max()]).toEqual([200, 429, 429, 200]);
  });

  it("matches queue operations by the job's endpoint and id", async () => {
    const t = setup();
    const a = (await t.submit({ prompt: "a" })).body;
    const b = (await t.submit({ prompt: "b" })).body;
    t.mock.addFault({ kind: "status", status: 429, operation: "status", requestId: a.request_id });
    expect((await t.call(a.status_url)).status).toBe(429);
    expect((await t.call(b.status_url)).status).toBe(202);
  });

  it("draws probabilities from the seeded generator, repeatably", async () => {
    const pattern = async () => {
      const t = setup({ seed: 11, faults: [{ kind: "status", probability: 0.5, operation: "status" }] });
      const codes: number[] = [];
      for (let i = 0; i < 40; i++) codes.push((await t.call("/fal-ai/flux-pro/requests/x/status")).status);
      return codes;
    };
    const a = await pattern();
    expect(a).toEqual(await pattern());
    expect(a).toContain(429);
    expect(a).toContain(404);
  });

  it("can be asked for per request with a header", async () => {
    const t = setup();
    const r = await t.call(`/${T2I}`, {
      method: "POST",
      body: '{"prompt":"x"}',
      headers: { [FAULT_HEADER]: JSON.stringify({ kind: "status", status: 429, retryAfter: 1 }) },
    });
    expect([r.status, r.headers.get("retry-after")]).toEqual([429, "1"]);
  });
});

describe("latency", () => {
  it("holds the answer until the clock moves", async () => {
    const t = setup({ faults: [{ kind: "latency", ms: 300, operation: "submit" }] });
    let settled = false;
    const pending = t.submit({ prompt: "x" }).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    t.clock.advance(299);
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    t.clock.advance(1);
    expect((await pending).response.status).toBe(200);
  });

  it("is abandoned when the caller aborts", async () => {
    const t = setup({ faults: [{ kind: "latency", ms: 300 }] });
    const controller = new AbortController();
    const pending = t.mock.fetch(`${QUEUE}/fal-ai/flux-pro/requests/x/status`, { headers: KEY, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(t.clock.pendingTimers).toBe(0);
  });
});

describe("broken answers", () => {
  it("connection reset rejects mock.fetch like fetch does", async () => {
    const t = setup({ faults: [{ kind: "reset", times: 1 }] }, { spec: false });
    const error = await t.mock.fetch(`${QUEUE}/${T2I}`, { method: "POST", headers: KEY, body: '{"prompt":"x"}' }).catch((e) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause).toMatchObject({ code: "ECONNRESET" });
    expect((await t.mock.handler(new Request(`${QUEUE}/x`))).status).toBe(404);
  });

  it("the handler itself answers a network-error Response for a reset", async () => {
    const t = setup({ faults: [{ kind: "reset" }] });
    const r = await t.mock(new Request(`${QUEUE}/fal-ai/flux-pro/requests/x/status`, { headers: KEY }));
    expect(r.type).toBe("error");
  });

  it("malformed JSON is a truncated body with a success status", async () => {
    const t = setup({ faults: [{ kind: "malformed-json", operation: "status" }] }, { spec: false });
    const r = await t.mock.fetch(`${QUEUE}/fal-ai/flux-pro/requests/x/status`, { headers: KEY });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    await expect(r.json()).rejects.toThrow(SyntaxError);
  });

  it("an HTML error page", async () => {
    const t = setup({ faults: [{ kind: "html", status: 503 }] }, { spec: false });
    const r = await t.mock.fetch(`${QUEUE}/${T2I}`, { method: "POST", headers: KEY, body: '{"prompt":"x"}' });
    expect(r.status).toBe(503);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await r.text()).toMatch(/^<!DOCTYPE html>/);
  });

  it("the status stream drops part-way", async () => {
    const t = setup({ faults: [{ kind: "stream-drop", afterEvents: 2 }] });
    const { body } = await t.submit({ prompt: "x" });
    const r = await t.mock.fetch(`${body.status_url}/stream`, { headers: KEY });
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    const texts: string[] = [];
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return "closed";
        texts.push(value);
      }
    })();
    t.clock.advance(1000);
    await expect(reading).rejects.toThrow(/dropped/);
    expect(texts.join("").split("\n\n").filter(Boolean)).toHaveLength(2);
    expect(texts.join("")).not.toContain("COMPLETED");
  });

  it("a job reaches COMPLETED, then its result fails with 422", async () => {
    const t = setup({ faults: [{ kind: "fail-at-result", times: 1 }] });
    const { body } = await t.submit({ prompt: "x", image_url: "https://e.org/a.png" }, "fal-ai/flux-pro/kontext/max");
    t.clock.advance(500);
    const status = await (await t.call(body.status_url)).json();
    expect(status).toMatchObject({ status: "COMPLETED", error: "Invalid status code: 422", error_type: "validation_error" });
    const r = await t.call(body.response_url);
    expect(r.status).toBe(422);
    expect((await r.json()).detail[0]).toMatchObject({ loc: ["body", "image_url"], type: "value_error" });
    // The rule fired once: the next job is fine.
    const next = (await t.submit({ prompt: "y" })).body;
    t.clock.advance(500);
    expect((await t.call(next.response_url)).status).toBe(200);
  });

  it("or with a 500 and X-Fal-Error-Type, also on sync runs", async () => {
    const t = setup({ faults: [{ kind: "fail-at-result", status: 500 }] });
    const { body } = await t.submit({ prompt: "x" });
    t.clock.advance(500);
    const r = await t.call(body.response_url);
    expect([r.status, r.headers.get("x-fal-error-type"), await r.json()]).toEqual([
      500,
      "internal_error",
      { detail: "Internal server error", error_type: "internal_error" },
    ]);
    const run = await t.call(`https://fal.run/${T2I}`, { method: "POST", body: '{"prompt":"x"}' });
    expect(run.status).toBe(500);
    // Failed jobs serve no files.
    expect((await t.mock.fetch(`${QUEUE}/files/${body.request_id}/0.jpeg`)).status).toBe(404);
  });
});

describe("start timeout", () => {
  it("a job still queued after x-fal-request-timeout seconds fails with a user 504", async () => {
    const t = setup({ timeline: { queueSteps: 5, progressSteps: 1, stepMs: 1000 } });
    const r = await t.call(`/${T2I}`, { method: "POST", body: '{"prompt":"x"}', headers: { "x-fal-request-timeout": "2.5" } });
    const body = await r.json();
    const stream = await t.mock.fetch(`${body.status_url}/stream`, { headers: KEY });
    const events = stream.text();
    t.clock.advance(2499);
    expect((await (await t.call(body.status_url)).json()).status).toBe("IN_QUEUE");
    t.clock.advance(1);
    expect(await (await t.call(body.status_url)).json()).toMatchObject({
      status: "COMPLETED",
      error_type: "request_timeout",
      metrics: { inference_time: null },
    });
    expect((await events).match(/"status":"\w+"/g)).toEqual([
      '"status":"IN_QUEUE"',
      '"status":"IN_QUEUE"',
      '"status":"IN_QUEUE"',
      '"status":"COMPLETED"',
    ]);
    const result = await t.call(body.response_url);
    expect([result.status, result.headers.get("x-fal-request-timeout-type"), await result.json()]).toEqual([
      504,
      "user",
      { detail: "Request timed out", error_type: "request_timeout" },
    ]);
  });

  it("a timeout longer than the queue wait changes nothing", async () => {
    const t = setup();
    const r = await t.call(`/${T2I}`, { method: "POST", body: '{"prompt":"x"}', headers: { "x-fal-request-timeout": "30" } });
    const body = await r.json();
    t.clock.advance(500);
    expect((await t.call(body.response_url)).status).toBe(200);
  });
});

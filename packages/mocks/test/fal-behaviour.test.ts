/**
 * Issue 14, the mock's part: fal's validation timing, flat 404s for unknown ids everywhere, every error
 * shape fal sends available as a fault, and the platform headers a client sent kept in the request log.
 */
import { KontextError } from "@kontext-sdk/schema/protocol";
import { afterAll, describe, expect, it, vi } from "vitest";
import { FAL_ERROR_SHAPES, KontextMockError } from "../src/index.js";
import { QUEUE, setup, T2I, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

describe("validation at the result (fal's timing, the default)", () => {
  it("accepts an invalid input, completes the job with error/error_type, and answers the 422 at the result", async () => {
    const deliveries: unknown[] = [];
    const t = setup({
      webhookFetch: (async (_url: RequestInfo | URL, init?: RequestInit) => {
        deliveries.push(JSON.parse(String(init?.body)));
        return new Response(null);
      }) as typeof fetch,
    });
    const { response, body } = await t.submit({ prompt: "x", num_images: 9, colour: "red" }, T2I, "?fal_webhook=https://e.org/h");
    expect([response.status, body.status]).toEqual([200, "IN_QUEUE"]);
    expect((await (await t.call(body.response_url)).json()).error_type).toBe("request_in_progress");
    t.clock.advance(1_000);
    const status = await (await t.call(`${body.status_url}?logs=1`)).json();
    expect(status).toMatchObject({
      status: "COMPLETED",
      error: "Invalid status code: 422",
      error_type: "validation_error",
      metrics: { inference_time: null },
    });
    const result = await t.call(body.response_url);
    expect(result.status).toBe(422);
    expect(result.headers.get("x-fal-retryable")).toBe("false");
    expect(result.headers.get("x-fal-request-id")).toBe(body.request_id);
    expect((await result.json()).detail).toEqual([
      expect.objectContaining({ loc: ["body", "num_images"], type: "less_than_equal", ctx: { le: 4 }, input: 9 }),
      expect.objectContaining({ loc: ["body", "colour"], type: "extra_forbidden" }),
    ]);
    // A failed job serves no files, and its webhook is an ERROR carrying the same body.
    expect((await t.mock.fetch(`${QUEUE}/files/${body.request_id}/0.jpeg`)).status).toBe(404);
    await vi.waitFor(() => expect(deliveries).toHaveLength(1));
    expect(deliveries[0]).toMatchObject({
      status: "ERROR",
      error: "Invalid status code: 422",
      payload: { detail: expect.any(Array) },
    });
  });

  it("validateAt: submit answers the 422 at once and queues nothing", async () => {
    const t = setup({ validateAt: "submit" });
    const { response, body } = await t.submit({ prompt: "x", num_images: 9 });
    expect(response.status).toBe(422);
    expect(response.headers.get("x-fal-error-type")).toBe("validation_error");
    expect(body.detail[0]).toMatchObject({ loc: ["body", "num_images"], type: "less_than_equal" });
    expect(t.mock.jobs.size).toBe(0);
  });

  it("a body that is not an object is queued too, and refused at its result", async () => {
    const t = setup();
    const { response, body } = await t.submit([1, 2]);
    expect(response.status).toBe(200);
    t.clock.advance(1_000);
    const result = await t.call(body.response_url);
    expect([result.status, (await result.json()).detail[0].type]).toEqual([422, "model_attributes_type"]);
  });

  it("bad options throw a KontextMockError (a KontextError) naming the option", () => {
    const error = (() => {
      try {
        setup({ validateAt: "later" as never });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(KontextMockError);
    expect(error).toBeInstanceOf(KontextError);
    expect(error).toMatchObject({
      option: "validateAt",
      message: expect.stringContaining('validateAt must be "submit" or "result"'),
    });
    expect(() => setup({ timeline: { stepMs: Number.NaN } })).toThrow(/timeline.stepMs must be a finite number/);
  });
});

describe("unknown request ids", () => {
  it("get the same flat 404, with x-fal-error-type, on status, stream, result and cancel", async () => {
    const t = setup();
    for (const [path, method] of [
      ["/status", "GET"],
      ["/status/stream", "GET"],
      ["", "GET"],
      ["/cancel", "PUT"],
    ] as const) {
      const response = await t.call(`/fal-ai/flux-pro/requests/00000000-0000-4000-8000-000000000000${path}`, { method });
      expect([response.status, response.headers.get("x-fal-error-type"), await response.json()]).toEqual([
        404,
        "request_not_found",
        { detail: "Request not found", error_type: "request_not_found" },
      ]);
    }
  });
});

describe("fal's error shapes as faults", () => {
  it.each(Object.keys(FAL_ERROR_SHAPES) as (keyof typeof FAL_ERROR_SHAPES)[])(
    "status fault shape %s: its status, body and headers",
    async (name) => {
      const shape = FAL_ERROR_SHAPES[name];
      const t = setup({ faults: [{ kind: "status", shape: name, operation: "result" }] });
      const response = await t.call("/fal-ai/flux-pro/requests/x");
      expect(response.status).toBe(shape.status);
      expect(await response.json()).toEqual(shape.body);
      for (const [header, value] of Object.entries(shape.headers)) expect(response.headers.get(header)).toBe(value);
    },
  );

  it("a locked account refuses the submit (403), while its status reads still work", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    t.mock.addFault({ kind: "status", shape: "account-locked", operation: ["submit", "run"] });
    const refused = await t.submit({ prompt: "y" });
    expect(refused.response.status).toBe(403);
    expect(refused.body.detail).toMatch(/^User is locked\. Reason: Exhausted balance/);
    expect((await t.call(body.status_url)).status).toBe(202);
  });

  it("fail-at-result with a shape: the job completes, its result is fal's answer with its headers", async () => {
    const t = setup({ faults: [{ kind: "fail-at-result", shape: "model-error-500" }] });
    const { body } = await t.submit({ prompt: "x" });
    t.clock.advance(1_000);
    const result = await t.call(body.response_url);
    expect([result.status, result.headers.get("x-fal-retryable")]).toEqual([500, "true"]);
    expect(await result.json()).toEqual(FAL_ERROR_SHAPES["model-error-500"].body);
    const string = setup({ faults: [{ kind: "fail-at-result", shape: "string-detail-422" }] });
    const job = (await string.submit({ prompt: "x" })).body;
    string.clock.advance(1_000);
    const answer = await string.call(job.response_url);
    expect([answer.status, await answer.json()]).toEqual([422, FAL_ERROR_SHAPES["string-detail-422"].body]);
  });
});

describe("the request log", () => {
  it("keeps the platform headers a client sent, and redacts the credential everywhere", async () => {
    const t = setup();
    const platform = {
      "x-fal-store-io": "0",
      "x-fal-object-lifecycle-preference": '{"expiration_duration_seconds":3600}',
      "x-fal-no-retry": "1",
      "x-fal-queue-priority": "low",
      "x-fal-runner-hint": "eu",
      "x-fal-request-timeout": "30",
    };
    await t.call(`/${T2I}`, {
      method: "POST",
      body: '{"prompt":"x"}',
      headers: { ...platform, "x-echo": "Key test-key:secret" },
    });
    const [entry] = t.mock.requests;
    expect(entry!.headers).toMatchObject({ ...platform, authorization: "Key [redacted]" });
    expect(entry!.headers["x-echo"]).toBe("Key [redacted]");
    expect(entry).toMatchObject({ bodyBytes: 14, body: { prompt: "x" } });
    expect(JSON.stringify(t.mock.requests)).not.toContain("test-key:secret");
  });

  it("redacts each request's own key, as clients with different keys take turns", async () => {
    const t = setup();
    const keys = ["first-id:first-secret-1", "second-id:second-secret-2"];
    for (const key of [...keys, ...keys, keys[0]!]) {
      await t.call(`/fal-ai/flux-pro/requests/r1/status?echo=${encodeURIComponent(key)}`, {
        headers: { authorization: `Key ${key}`, "x-echo": key },
      });
    }
    expect(t.mock.requests).toHaveLength(5);
    for (const entry of t.mock.requests) {
      expect(entry.headers).toMatchObject({ authorization: "Key [redacted]", "x-echo": "[redacted]" });
      expect(entry.query).toEqual({ echo: "[redacted]" });
    }
    const log = JSON.stringify(t.mock.requests);
    for (const secret of ["first-secret-1", "second-secret-2"]) expect(log).not.toContain(secret);
    // A request without a credential keeps what it sent.
    await t.mock.fetch(`${QUEUE}/fal-ai/flux-pro/requests/r1/status?echo=plain-text-value`);
    expect(t.mock.requests.at(-1)!.query).toEqual({ echo: "plain-text-value" });
  });
});

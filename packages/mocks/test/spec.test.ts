/**
 * The contract triangle's mock corner: every fixture and every answer the simulator gives,
 * across all scenarios that should stay spec-valid, checked against spec/dist with Ajv 2020.
 */
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { cancelResponses, errorResponses, errors, outputs, queueStatuses, webhookPayloads } from "../src/fixtures.js";
import type { FaultRule } from "../src/index.js";
import { componentSchema, responseSchemaPointer, schemaAt, setup, specChecker } from "./helpers.js";

const ENDPOINTS = {
  "fal-ai/flux-pro/kontext/text-to-image": { prompt: "t2i" },
  "fal-ai/flux-pro/kontext/max/text-to-image": { prompt: "t2i", aspect_ratio: "9:21", output_format: "png" },
  "fal-ai/flux-pro/kontext": { prompt: "edit", image_url: "https://example.org/in.png" },
  "fal-ai/flux-pro/kontext/max": { prompt: "edit", image_url: "data:image/png;base64,AAAA", sync_mode: true },
  "fal-ai/flux-pro/kontext/multi": { prompt: "multi", image_urls: ["https://example.org/a.png"], num_images: 4 },
  "fal-ai/flux-pro/kontext/max/multi": {
    prompt: "multi",
    image_urls: ["https://example.org/a.png", "https://example.org/b.png"],
    seed: 9,
  },
} as const;

describe("fixtures", () => {
  const cases: [string, string, unknown][] = [
    ["queueStatuses.submitted", "SubmitResponse", queueStatuses.submitted],
    ["queueStatuses.submittedAsDocumented", "SubmitResponse", queueStatuses.submittedAsDocumented],
    ...Object.entries(queueStatuses)
      .filter(([k]) => k !== "submittedAsDocumented")
      .map(([k, v]) => [`queueStatuses.${k}`, "QueueStatus", v] as [string, string, unknown]),
    ...Object.entries(outputs).map(([k, v]) => [`outputs.${k}`, "KontextOutput", v] as [string, string, unknown]),
    ["errors.validation", "HTTPValidationError", errors.validation],
    ["errors.missingPrompt", "HTTPValidationError", errors.missingPrompt],
    ["errors.modelError", "HTTPValidationError", errors.modelError],
    ...Object.entries(errors)
      .filter(([k]) => k !== "validation" && k !== "missingPrompt" && k !== "modelError")
      .map(([k, v]) => [`errors.${k}`, "FlatError", v] as [string, string, unknown]),
    ...Object.entries(errors).map(([k, v]) => [`errors.${k}`, "ErrorBody", v] as [string, string, unknown]),
    ...Object.entries(errorResponses).map(([k, v]) => [`errorResponses.${k}`, "ErrorBody", v.body] as [string, string, unknown]),
    ...Object.entries(webhookPayloads).map(
      ([k, v]) => [`webhookPayloads.${k}`, "WebhookPayload", v] as [string, string, unknown],
    ),
  ];
  it.each(cases)("%s is a valid %s", (_name, schema, value) => {
    const validate = componentSchema(schema);
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(Object.entries(cancelResponses))(
    "cancelResponses.%s matches the cancel operation's answer",
    (_name, { status, body }) => {
      const pointer = responseSchemaPointer("openapi.json", "/fal-ai/flux-pro/requests/{request_id}/cancel", "put", status);
      expect(pointer).toBeDefined();
      expect(schemaAt("openapi.json", pointer!)(body)).toBe(true);
    },
  );

  it.each(Object.entries(errorResponses))("errorResponses.%s is documented for the result call", (_name, shape) => {
    // fal's result call "returns the same error the model returned": every shape must be one the spec declares there.
    const pointer = responseSchemaPointer("openapi.json", "/fal-ai/flux-pro/requests/{request_id}", "get", shape.status);
    expect(pointer, `status ${shape.status}`).toBeDefined();
    expect(schemaAt("openapi.json", pointer!)(shape.body)).toBe(true);
  });

  it("the 1×1 sync-mode data URI is a real PNG", () => {
    const bytes = Buffer.from(outputs.syncMode.images[0]!.url.split(",")[1]!, "base64");
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1, 1]);
    // IDAT starts after the 8-byte signature and the 25-byte IHDR chunk.
    const idatLength = bytes.readUInt32BE(33);
    expect([...inflateSync(bytes.subarray(41, 41 + idatLength))]).toEqual([0, 255, 90, 40]);
  });
});

describe("the checker", () => {
  it("catches a wrong body, an undocumented status and a bad stream event", async () => {
    const checker = specChecker();
    const url = "https://queue.fal.run/fal-ai/flux-pro/requests/x/status";
    await checker.check(url, "GET", Response.json({ status: "IN_QUEUE" }, { status: 202 }));
    await checker.check(url, "GET", Response.json({ detail: "x" }, { status: 418 }));
    await checker.check(
      `${url}/stream`,
      "GET",
      new Response('data: {"status":"FAILED"}\n\n', { headers: { "content-type": "text/event-stream" } }),
    );
    await checker.check(
      "https://queue.fal.run/fal-ai/flux-pro/kontext",
      "POST",
      Response.json({ status: "IN_QUEUE", queue_position: 0 }),
    );
    expect(checker.violations).toHaveLength(4);
  });
});

describe("every simulator answer is spec-valid", () => {
  it("across endpoints, states, errors and spec-listed faults", async () => {
    const faults: FaultRule[] = [
      { kind: "status", operation: "submit", skip: 30, times: 1 },
      { kind: "status", operation: "status", skip: 40, times: 1, retryAfter: 2 },
      { kind: "status", operation: "result", skip: 5, times: 1 },
      { kind: "status", operation: "result", status: 502, skip: 6, times: 1 },
      { kind: "status", operation: "result", status: 504, skip: 7, times: 1 },
      { kind: "status", operation: "run", skip: 3, times: 1 },
      { kind: "status", operation: "run", status: 500, skip: 4, times: 1 },
      { kind: "fail-at-result", operation: "submit", skip: 8, times: 1 },
      { kind: "fail-at-result", operation: "submit", status: 500, skip: 9, times: 1 },
      { kind: "fail-at-result", operation: "run", skip: 1, times: 1 },
      // fal's real error shapes, as faults: a locked account, a string-detail 422, an array-detail 500, a user 504.
      { kind: "status", operation: "submit", shape: "account-locked", skip: 20, times: 1 },
      { kind: "status", operation: "result", shape: "user-timeout-504", skip: 12, times: 1 },
      { kind: "fail-at-result", operation: "submit", shape: "string-detail-422", skip: 10, times: 1 },
      { kind: "fail-at-result", operation: "submit", shape: "model-error-500", skip: 11, times: 1 },
      { kind: "latency", ms: 0 },
    ];
    const t = setup({ faults, webhookFetch: (async () => new Response(null)) as typeof fetch });
    const { call, clock } = t;
    const post = (url: string, body: unknown) =>
      call(url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });

    for (const [endpoint, input] of Object.entries(ENDPOINTS)) {
      // Queue lifecycle, polled at every step, with and without logs, plus a stream per job.
      for (let round = 0; round < 3; round++) {
        const r = await post(`/${endpoint}?fal_webhook=https://example.org/hook`, input);
        if (r.status !== 200) continue;
        const s = await r.json();
        const stream = call(`${s.status_url}/stream?logs=1`);
        for (let step = 0; step <= 6; step++) {
          await call(s.status_url);
          await call(`${s.status_url}?logs=1`);
          await call(s.response_url);
          if (round === 1 && step === 0) await call(s.cancel_url, { method: "PUT" });
          if (round === 2 && step === 3) await call(s.cancel_url, { method: "PUT" });
          clock.advance(100);
        }
        await call(s.cancel_url, { method: "PUT" });
        await (await stream.catch(() => undefined))?.text();
      }
      // Sync runs: the output, validation errors, malformed and empty bodies, no credentials.
      await post(`https://fal.run/${endpoint}`, input);
      await post(`https://queue.fal.run/sync/${endpoint}`, input);
      await post(`https://fal.run/${endpoint}`, { ...input, num_images: 7, extra: true });
      await post(`/${endpoint}`, { prompt: 1 });
      await post(`/${endpoint}`, "{not json");
      await post(`/${endpoint}`, "");
      await call(`/${endpoint}`, { method: "POST", body: "{}", headers: { authorization: "" } });
      await call(`https://fal.run/${endpoint}`, { method: "POST", body: "{}", headers: { authorization: "Token x" } });
    }
    for (const path of ["/status", "/status/stream", "", "/cancel"]) {
      await call(`/fal-ai/flux-pro/requests/does-not-exist${path}`, { method: path === "/cancel" ? "PUT" : "GET" });
      await t.mock
        .fetch(`https://queue.fal.run/fal-ai/flux-pro/requests/x${path}`, { method: path === "/cancel" ? "PUT" : "GET" })
        .then((r) =>
          t.checker.check(`https://queue.fal.run/fal-ai/flux-pro/requests/x${path}`, path === "/cancel" ? "PUT" : "GET", r),
        );
    }
    clock.advance(10_000);
    expect(t.checker.violations).toEqual([]);
    // Guard against a vacuous pass: the matrix really exercised the operations and faults.
    expect(t.checker.checked).toBeGreaterThan(400);
    const codes = new Set(t.mock.requests.map((r) => r.operation));
    expect([...codes].sort()).toEqual(["cancel", "result", "run", "status", "stream", "submit"]);
    expect(t.mock.webhooks.some((w) => w.payload.status === "ERROR")).toBe(true);
    expect(t.mock.webhooks.some((w) => w.payload.status === "OK")).toBe(true);
  });
});

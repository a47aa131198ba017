/**
 * Referee (a): our client against `prism mock --errors` over every operation of both spec
 * documents. Prism checks each request the client sends; the client must read each answer the
 * spec documents (including the error answers, asked for with Prism's `Prefer: code=` header).
 */
import { createKontextClient, KontextApiError, KontextValidationError } from "@kontext-sdk/client";
import type { EndpointId } from "@kontext-sdk/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateResponse } from "../src/index.js";
import { type PrismServer, recordingFetch, SPEC, SYNC_SPEC, startPrism } from "./prism.js";

const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mM4EaBBEmIY1TCqYfhqAAC/xkAQBZlNgAAAAABJRU5ErkJggg==";

const inputs = {
  "fal-ai/flux-pro/kontext/text-to-image": { prompt: "a red square", aspect_ratio: "1:1" },
  "fal-ai/flux-pro/kontext/max/text-to-image": { prompt: "a red square", num_images: 1 },
  "fal-ai/flux-pro/kontext": { prompt: "make it blue", image_url: PNG },
  "fal-ai/flux-pro/kontext/max": { prompt: "make it blue", image_url: "https://example.org/in.png" },
  "fal-ai/flux-pro/kontext/multi": { prompt: "combine", image_urls: [PNG, PNG] },
  "fal-ai/flux-pro/kontext/max/multi": { prompt: "combine", image_urls: ["https://example.org/a.png"], safety_tolerance: "2" },
} as const;
const ENDPOINTS = Object.keys(inputs) as EndpointId[];

let queue: PrismServer;
let sync: PrismServer;

beforeAll(async () => {
  [queue, sync] = await Promise.all([startPrism(["mock", SPEC]), startPrism(["mock", SYNC_SPEC])]);
}, 60_000);
afterAll(async () => {
  await Promise.all([queue?.close(), sync?.close()]);
});

function client(recorder: ReturnType<typeof recordingFetch>, headers?: Record<string, string>) {
  return createKontextClient({
    baseUrl: queue.url,
    syncBaseUrl: sync.url,
    credentials: "prism-key",
    fetch: recorder.fetch,
    retry: false,
    ...(headers ? { headers } : {}),
  });
}

describe("our client against prism mock --errors", () => {
  it("submits to every endpoint, reads status with and without logs, the stream, the result and cancels: zero violations", async () => {
    const rec = recordingFetch();
    const kontext = client(rec);
    for (const endpoint of ENDPOINTS) {
      const job = await kontext.submit(endpoint, inputs[endpoint as keyof typeof inputs] as never);
      expect(job.requestId).toBeTruthy();
      // Prism answers with fal's URLs; the client must stay on the configured host.
      expect(job.statusUrl.startsWith(queue.url)).toBe(true);
      expect((await kontext.status(endpoint, job.requestId)).status).toBe("COMPLETED");
      expect((await kontext.status(endpoint, job.requestId, { logs: true })).status).toBe("COMPLETED");
      // Prism replays the spec's example stream: the client must read it to COMPLETED.
      const seen: string[] = [];
      for await (const s of kontext.streamStatus(endpoint, job.requestId, { logs: true })) seen.push(s.status);
      expect(seen).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
      const result = await kontext.result(endpoint, job.requestId);
      expect(result.data.images.length).toBeGreaterThan(0);
      // The spec documents cancel's 200 OK and 202 CANCELLATION_REQUESTED; Prism answers the first.
      expect(["OK", "CANCELLATION_REQUESTED"]).toContain((await kontext.cancel(endpoint, job.requestId)).status);
    }
    const done = await kontext.subscribe("fal-ai/flux-pro/kontext/max", inputs["fal-ai/flux-pro/kontext/max"]);
    expect(done.data.images[0]?.url).toMatch(/^https:/);
    expect(rec.found, queue.output().slice(-2000)).toEqual([]);
    expect(rec.calls()).toBeGreaterThan(ENDPOINTS.length * 6);
  }, 60_000);

  it("runs every endpoint on the sync host: zero violations", async () => {
    const rec = recordingFetch();
    const kontext = client(rec);
    for (const endpoint of ENDPOINTS) {
      const out = await kontext.run(endpoint, inputs[endpoint as keyof typeof inputs] as never);
      expect(out.data.images.length).toBeGreaterThan(0);
    }
    expect(rec.found, sync.output().slice(-2000)).toEqual([]);
  }, 60_000);

  it("reads each documented error answer: zero violations", async () => {
    const endpoint = "fal-ai/flux-pro/kontext/text-to-image";
    const id = "acf05732-7cb3-445b-9f39-fdaeccb1d730";
    const asked: [string, () => Promise<unknown>, (e: unknown) => void][] = [];
    for (const code of [400, 401, 422, 429]) {
      const rec = recordingFetch();
      const kontext = client(rec, { prefer: `code=${code}` });
      asked.push([`submit ${code}`, () => kontext.submit(endpoint, inputs[endpoint]), (e) => expectStatus(e, code)]);
      await expectRejects(asked.at(-1)!);
      expect(rec.found).toEqual([]);
    }
    for (const code of [401, 404, 429]) {
      const rec = recordingFetch();
      await expectRejects([
        `status ${code}`,
        () => client(rec, { prefer: `code=${code}` }).status(endpoint, id),
        (e) => expectStatus(e, code),
      ]);
      expect(rec.found).toEqual([]);
    }
    for (const code of [400, 401, 404, 422, 500, 502, 503, 504]) {
      const rec = recordingFetch();
      await expectRejects([
        `result ${code}`,
        () => client(rec, { prefer: `code=${code}` }).result(endpoint, id),
        (e) => expectStatus(e, code),
      ]);
      expect(rec.found).toEqual([]);
    }
    {
      const rec = recordingFetch();
      await expectRejects([
        "cancel 401",
        () => client(rec, { prefer: "code=401" }).cancel(endpoint, id),
        (e) => expectStatus(e, 401),
      ]);
      // fal documents these outcomes in the body; the client returns them instead of throwing (spec/DECISIONS.md #16).
      expect((await client(rec, { prefer: "code=400" }).cancel(endpoint, id)).status).toBe("ALREADY_COMPLETED");
      expect((await client(rec, { prefer: "code=404" }).cancel(endpoint, id)).status).toBe("NOT_FOUND");
      expect(rec.found).toEqual([]);
    }
  }, 60_000);

  it("status stream: Prism's mocked stream (the spec's example) is a complete event stream ending in COMPLETED", async () => {
    // The example is a `|+` block so its last event keeps the blank line SSE requires; with `|` a
    // conforming reader never dispatches the COMPLETED event (validateResponse: sse-unterminated-event).
    const rec = recordingFetch();
    const res = await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/abc/status/stream?logs=1`, {
      headers: { authorization: "Key prism-key" },
    });
    const text = await res.text();
    expect(rec.found).toEqual([]);
    expect(validateResponse("streamStatus", res.status, text, res.headers)).toEqual([]);
    expect(text).toMatch(/"status":"COMPLETED"[^\n]*\n\n$/);
  });

  it("the referee can fail: Prism's objection to an invalid request is recorded", async () => {
    const rec = recordingFetch();
    await rec.fetch(`${queue.url}/fal-ai/flux-pro/kontext/max`, {
      method: "POST",
      headers: { authorization: "Key prism-key", "content-type": "application/json" },
      body: JSON.stringify({ prompt: "no image_url" }),
    });
    expect(rec.found).toHaveLength(1);
    expect(JSON.stringify(rec.found[0]?.violations)).toContain("image_url");
  });
});

function expectStatus(error: unknown, code: number) {
  if (code === 422) expect(error).toBeInstanceOf(KontextValidationError);
  else expect(error).toBeInstanceOf(KontextApiError);
  expect((error as { status?: number }).status).toBe(code);
}

async function expectRejects([label, call, check]: [string, () => Promise<unknown>, (e: unknown) => void]) {
  let caught: unknown;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  expect(caught, `${label} should reject`).toBeDefined();
  check(caught);
}

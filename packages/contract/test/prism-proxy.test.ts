/**
 * Referee (b): `prism proxy --errors` in front of our mock server. Every operation and every
 * scenario that should stay spec-valid goes through Prism, which checks the request on the way in
 * and the mock's answer on the way out; any objection is recorded and must not occur.
 */
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatReport, runContract } from "../src/index.js";
import { type PrismServer, recordingFetch, SPEC, SYNC_SPEC, startPrism } from "./prism.js";

let mock: MockServer;
let queue: PrismServer;
let sync: PrismServer;

beforeAll(async () => {
  // Steps long enough that a job is still queued when the tests below ask early, even on a loaded machine
  // (Prism adds its own latency to every call).
  mock = await startMockServer({ timeline: { queueSteps: 2, progressSteps: 2, stepMs: 250 } });
  // The sync document's paths have no /sync prefix; the mock serves sync runs under it.
  [queue, sync] = await Promise.all([
    startPrism(["proxy", SPEC, mock.url]),
    startPrism(["proxy", SYNC_SPEC, `${mock.url}/sync`]),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([queue?.close(), sync?.close()]);
  await mock?.close();
});

const AUTH = { authorization: "Key proxy-key", "content-type": "application/json" };
const T2I = "fal-ai/flux-pro/kontext/text-to-image";

async function submitRaw(fetcher: typeof fetch, headers: Record<string, string> = {}) {
  const res = await fetcher(`${queue.url}/${T2I}`, {
    method: "POST",
    headers: { ...AUTH, ...headers },
    body: JSON.stringify({ prompt: "a red square" }),
  });
  return { res, body: (await res.json()) as { request_id: string } };
}

async function waitCompleted(fetcher: typeof fetch, id: string) {
  for (let i = 0; i < 200; i++) {
    const res = await fetcher(`${queue.url}/fal-ai/flux-pro/requests/${id}/status`, { headers: AUTH });
    if (((await res.json()) as { status: string }).status === "COMPLETED") return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${id} never completed`);
}

describe("prism proxy --errors in front of the mock server", () => {
  it("the whole conversation (every endpoint, status, stream, result, cancel, unknown id, sync run): zero violations", async () => {
    const rec = recordingFetch();
    const report = await runContract({
      baseUrl: queue.url,
      syncBaseUrl: sync.url,
      credentials: "proxy-key",
      fetch: rec.fetch,
      pollIntervalMs: 20,
      timeoutMs: 20_000,
      // Prism forwards to the mock without the Host header, so the mock's URLs name the mock's
      // own origin, not Prism's: a proxy in the middle is exactly the foreign-origin case of DECISIONS #9.
      allowForeignUrls: true,
      // Prism answers an invalid request itself (its own 422 problem), so that check would judge Prism, not the mock.
      skip: ["invalid input"],
    });
    expect(
      report.checks.filter((c) => !c.ok),
      formatReport(report),
    ).toEqual([]);
    expect(report.checks.filter((c) => c.name === "result")).toHaveLength(6);
    expect(rec.found, queue.output().slice(-3000)).toEqual([]);
  }, 90_000);

  it("error scenarios the spec documents pass Prism untouched: zero violations", async () => {
    const rec = recordingFetch();
    const fault = (f: object) => ({ "x-kontext-mock-fault": JSON.stringify(f) });
    // 429 with Retry-After on submit, 503 on status-less result, rate limit on status
    expect((await submitRaw(rec.fetch, fault({ kind: "status", status: 429, retryAfter: 2 }))).res.status).toBe(429);
    const { body } = await submitRaw(rec.fetch);
    const id = body.request_id;
    expect(
      (
        await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/${id}/status`, {
          headers: { ...AUTH, ...fault({ kind: "status", status: 429 }) },
        })
      ).status,
    ).toBe(429);
    // result before completion: the spec's 400
    expect((await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/${id}`, { headers: AUTH })).status).toBe(400);
    for (const status of [500, 502, 503, 504]) {
      const res = await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/${id}`, {
        headers: { ...AUTH, ...fault({ kind: "status", status }) },
      });
      expect(res.status).toBe(status);
    }
    await waitCompleted(rec.fetch, id);
    // cancel after completion: 400 ALREADY_COMPLETED; unknown id: 404 NOT_FOUND
    expect((await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/${id}/cancel`, { method: "PUT", headers: AUTH })).status).toBe(
      400,
    );
    expect((await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/nope/cancel`, { method: "PUT", headers: AUTH })).status).toBe(
      404,
    );
    // a job that fails at its result: 422 field errors, then 500
    for (const status of [422, 500]) {
      const failing = await submitRaw(rec.fetch, fault({ kind: "fail-at-result", status }));
      await waitCompleted(rec.fetch, failing.body.request_id);
      const res = await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/${failing.body.request_id}`, { headers: AUTH });
      expect(res.status).toBe(status);
    }
    // Not here: the mock's `stream-drop`, `reset` and `malformed-json` faults are transport breakages, not
    // answers; Prism's proxy turns them into its own 500 FetchError problem, so they are no spec scenario.
    expect(rec.found, queue.output().slice(-3000)).toEqual([]);
  }, 60_000);

  it("input and header variations (every optional field, sync_mode data URIs, 4 jpegs, priority and timeout headers): zero violations", async () => {
    const rec = recordingFetch();
    const PNG =
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mM4EaBBEmIY1TCqYfhqAAC/xkAQBZlNgAAAAABJRU5ErkJggg==";
    const variations: [string, Record<string, unknown>][] = [
      [
        T2I,
        {
          prompt: "four",
          num_images: 4,
          output_format: "jpeg",
          aspect_ratio: "16:9",
          seed: 3,
          guidance_scale: 7.5,
          safety_tolerance: "5",
          enhance_prompt: true,
        },
      ],
      ["fal-ai/flux-pro/kontext/max", { prompt: "inline", image_url: PNG, sync_mode: true, output_format: "png" }],
      ["fal-ai/flux-pro/kontext/multi", { prompt: "two", image_urls: [PNG, PNG], aspect_ratio: "9:21", num_images: 2 }],
    ];
    for (const [endpoint, input] of variations) {
      const res = await rec.fetch(`${queue.url}/${endpoint}`, {
        method: "POST",
        headers: { ...AUTH, "x-fal-queue-priority": "low", "x-fal-request-timeout": "30", "x-fal-no-retry": "1" },
        body: JSON.stringify(input),
      });
      expect(res.status).toBe(200);
      const id = ((await res.json()) as { request_id: string }).request_id;
      await waitCompleted(rec.fetch, id);
      const out = await rec.fetch(`${queue.url}/fal-ai/flux-pro/requests/${id}`, { headers: AUTH });
      const data = (await out.json()) as { images: { url: string }[] };
      expect(data.images).toHaveLength(Number(input.num_images ?? 1));
      if (input.sync_mode) expect(data.images[0]?.url).toMatch(/^data:image\//);
    }
    expect(rec.found, queue.output().slice(-3000)).toEqual([]);
  }, 60_000);

  it("the referee can fail: an undocumented status is flagged (warning header) and a broken body is refused (500 VIOLATIONS)", async () => {
    const rec = recordingFetch();
    const { body } = await submitRaw(rec.fetch);
    const url = `${queue.url}/fal-ai/flux-pro/requests/${body.request_id}/status`;
    // an HTML 418 page: the status code is not in the spec (5XX is); Prism passes it on with an sl-violations warning
    const html = await rec.fetch(url, {
      headers: { ...AUTH, "x-kontext-mock-fault": JSON.stringify({ kind: "html", status: 418 }) },
    });
    expect(html.status).toBe(418);
    // a documented status with a body of the wrong shape: under --errors Prism answers its own 500
    const wrong = await rec.fetch(url, {
      headers: { ...AUTH, "x-kontext-mock-fault": JSON.stringify({ kind: "status", status: 404, body: { message: "gone" } }) },
    });
    expect(wrong.status).toBe(500);
    expect(rec.found.map((f) => f.status)).toEqual([418, 500]);
    expect(JSON.stringify(rec.found[0]?.violations)).toContain("Unable to match the returned status code");
    expect(JSON.stringify(rec.found[1]?.violations)).toContain("VIOLATIONS");
  }, 30_000);
});

import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKontextMock, createManualClock } from "../src/index.js";
import { kontextHandlers } from "../src/msw.js";
import { JSON_HEADERS, KEY, specChecker, T2I } from "./helpers.js";

const clock = createManualClock();
const mock = createKontextMock({ clock, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 100 } });
const server = setupServer(
  ...kontextHandlers(mock),
  ...kontextHandlers(createKontextMock({ clock, auth: "any" }), {
    baseUrl: "https://gateway.example/api/",
    syncBaseUrl: "https://gateway.example/api/sync",
  }),
);
const checker = specChecker();

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  server.resetHandlers();
  mock.reset();
});
afterAll(() => {
  server.close();
  expect(checker.violations).toEqual([]);
});

async function call(url: string, init: RequestInit = {}) {
  const r = await fetch(url, { ...init, headers: { ...JSON_HEADERS, ...(init.headers as Record<string, string>) } });
  await checker.check(url, init.method ?? "GET", r.clone(), url.startsWith("https://gateway.example/api/") ? "/api" : "");
  return r;
}

describe("kontextHandlers with setupServer", () => {
  it("answers fal's hosts through the global fetch", async () => {
    const submitted = await (
      await call(`https://queue.fal.run/${T2I}`, { method: "POST", body: '{"prompt":"msw","num_images":2}' })
    ).json();
    expect(submitted.status_url).toBe(`https://queue.fal.run/fal-ai/flux-pro/requests/${submitted.request_id}/status`);
    expect((await call(submitted.status_url)).status).toBe(202);
    clock.advance(200);
    expect((await call(submitted.status_url)).status).toBe(200);
    const out = await (await call(submitted.response_url)).json();
    expect(out.images).toHaveLength(2);
    const file = await fetch(out.images[1].url);
    expect(file.headers.get("content-type")).toBe("image/jpeg");
    expect(mock.requests.map((r) => r.operation)).toEqual(["submit", "status", "status", "result", "files"]);
    expect(mock.requests[0]!.headers.authorization).toBe("Key [redacted]");
  });

  it("serves sync runs on fal.run, with files on the same host", async () => {
    const r = await call(`https://fal.run/${T2I}`, { method: "POST", body: '{"prompt":"sync"}' });
    const out = await r.json();
    expect(out.images[0].url).toMatch(/^https:\/\/fal\.run\/files\//);
    expect((await fetch(out.images[0].url)).status).toBe(200);
  });

  it("streams status events", async () => {
    const { status_url } = await (
      await call(`https://queue.fal.run/${T2I}`, { method: "POST", body: '{"prompt":"sse"}' })
    ).json();
    const r = await fetch(`${status_url}/stream`, { headers: KEY });
    const text = r.text();
    clock.advance(500);
    expect((await text).match(/"status":"\w+"/g)).toEqual([
      '"status":"IN_QUEUE"',
      '"status":"IN_PROGRESS"',
      '"status":"COMPLETED"',
    ]);
  });

  it("honours a base URL with a path and a separate sync base", async () => {
    const submitted = await (
      await call(`https://gateway.example/api/${T2I}`, {
        method: "POST",
        body: '{"prompt":"gw"}',
        headers: { authorization: "" },
      })
    ).json();
    expect(submitted.response_url).toBe(`https://gateway.example/api/fal-ai/flux-pro/requests/${submitted.request_id}`);
    const run = await (
      await fetch(`https://gateway.example/api/sync/${T2I}`, { method: "POST", body: '{"prompt":"gw"}' })
    ).json();
    expect(run.images[0].url).toMatch(/^https:\/\/gateway\.example\/api\/files\//);
    expect((await fetch(run.images[0].url)).status).toBe(200);
  });

  it("turns a reset fault into a network error", async () => {
    mock.addFault({ kind: "reset", times: 1 });
    await expect(fetch(`https://queue.fal.run/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: "{}" })).rejects.toThrow(
      TypeError,
    );
  });

  it("validates like the server: 401, 422, 404", async () => {
    expect(
      (await call(`https://queue.fal.run/${T2I}`, { method: "POST", body: "{}", headers: { authorization: "nope" } })).status,
    ).toBe(401);
    // fal's timing: the submit is accepted, the job's result is the 422.
    const accepted = await call(`https://queue.fal.run/${T2I}`, { method: "POST", body: '{"prompt":"x","seed":-2}' });
    expect(accepted.status).toBe(200);
    clock.advance(200);
    expect((await call((await accepted.json()).response_url)).status).toBe(422);
    expect((await fetch("https://queue.fal.run/unknown", { headers: KEY })).status).toBe(404);
  });

  it("can be overridden per test like any MSW handler", async () => {
    server.use(
      http.get("https://queue.fal.run/fal-ai/flux-pro/requests/:id/status", () =>
        HttpResponse.json({ detail: "Too many requests" }, { status: 429 }),
      ),
    );
    expect((await fetch("https://queue.fal.run/fal-ai/flux-pro/requests/abc/status", { headers: KEY })).status).toBe(429);
  });

  it("creates its own mock from options", () => {
    expect(kontextHandlers({ auth: "any" })).toHaveLength(2);
  });
});

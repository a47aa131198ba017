import { describe, expect, it } from "vitest";
import { createKontextMock, createManualClock } from "../src/index.js";

const BASE = "https://queue.fal.run";
const AUTH = { authorization: "Key test-key" };

describe("storage through createKontextMock", () => {
  it("initiate needs the key; the signed PUT and the file do not; uploads are listed", async () => {
    const mock = createKontextMock();
    const body = JSON.stringify({ content_type: "image/png", file_name: "a.png" });
    expect((await mock.fetch(`${BASE}/storage/upload/initiate`, { method: "POST", body })).status).toBe(401);
    const initiated = await mock.fetch(`${BASE}/storage/upload/initiate?storage_type=fal-cdn-v3`, {
      method: "POST",
      body,
      headers: AUTH,
    });
    const { upload_url, file_url } = await initiated.json();
    expect((await mock.fetch(upload_url, { method: "PUT", body: new Uint8Array([7, 8, 9]) })).status).toBe(200);
    const served = await mock.fetch(file_url);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(new Uint8Array([7, 8, 9]));
    expect(mock.uploads).toEqual([expect.objectContaining({ fileName: "a.png", size: 3, contentType: "image/png" })]);
    expect(mock.requests.filter((entry) => entry.operation === "upload")).toHaveLength(4);
  });

  it("an upload fault answers the next storage call once, then lets it through", async () => {
    const mock = createKontextMock({ faults: [{ kind: "status", operation: "upload", times: 1 }] });
    const failed = await mock.fetch(`${BASE}/storage/upload/initiate`, {
      method: "POST",
      body: JSON.stringify({ content_type: "image/png", file_name: "b.png" }),
      headers: AUTH,
    });
    expect(failed.status).toBe(503);
    const ok = await mock.fetch(`${BASE}/storage/upload/initiate`, {
      method: "POST",
      body: JSON.stringify({ content_type: "image/png", file_name: "b.png" }),
      headers: AUTH,
    });
    expect(ok.status).toBe(200);
  });
});

describe("result retention", () => {
  async function completedJob(input: Record<string, unknown>, options: Parameters<typeof createKontextMock>[0] = {}) {
    const clock = createManualClock();
    const mock = createKontextMock({ clock, ...options });
    const submitted = await mock.fetch(`${BASE}/fal-ai/flux-pro/kontext/text-to-image`, {
      method: "POST",
      body: JSON.stringify(input),
      headers: AUTH,
    });
    const { request_id: id } = await submitted.json();
    clock.advance(60_000);
    const result = () => mock.fetch(`${BASE}/fal-ai/flux-pro/requests/${id}`, { headers: AUTH });
    expect((await result()).status).toBe(200);
    return { clock, result };
  }

  it("keeps a small result one hour, as fal does, then answers the flat 404", async () => {
    const { clock, result } = await completedJob({ prompt: "a fox" });
    clock.advance(59 * 60_000 - 60_000);
    expect((await result()).status).toBe(200);
    clock.advance(61_000);
    const gone = await result();
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ detail: "Request not found" });
  });

  it("keeps a result of 10 kB or more (sync_mode data URIs) about six minutes", async () => {
    const input = { prompt: "a fox", sync_mode: true, num_images: 4, output_format: "png", aspect_ratio: "21:9" };
    const { clock, result } = await completedJob(input);
    expect((await (await result()).text()).length).toBeGreaterThanOrEqual(10 * 1024);
    clock.advance(5 * 60_000);
    expect((await result()).status).toBe(200);
    clock.advance(60_000);
    expect((await result()).status).toBe(404);
  });

  it("resultRetention shortens both for tests", async () => {
    const { clock, result } = await completedJob({ prompt: "a fox" }, { resultRetention: { ms: 90_000 } });
    // Completed about a second after submit, checked 60 s after submit: kept until ~91 s.
    clock.advance(28_000);
    expect((await result()).status).toBe(200);
    clock.advance(3_000);
    expect((await result()).status).toBe(404);
  });
});

describe("storage through the node server", () => {
  it("streams a 30 MB upload past the 10 MiB JSON body cap into the simulator, and reset forgets it", async () => {
    const { startMockServer } = await import("../src/server.js");
    const server = await startMockServer({ port: 0 });
    try {
      const initiated = await fetch(`${server.url}/storage/upload/initiate`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ content_type: "image/jpeg", file_name: "big.jpg" }),
      });
      const { upload_url, file_url } = await initiated.json();
      const bytes = new Uint8Array(30 * 1024 * 1024);
      bytes.set([0xff, 0xd8, 0xff]);
      const put = await fetch(upload_url, { method: "PUT", body: bytes, headers: { "content-type": "image/jpeg" } });
      expect(put.status).toBe(200);
      expect((await (await fetch(file_url)).arrayBuffer()).byteLength).toBe(bytes.length);
      server.mock.reset();
      expect(server.mock.uploads).toEqual([]);
      expect((await fetch(file_url)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

import { createKontextMock, createManualClock } from "@kontext-sdk/mocks";
import { describe, expect, it } from "vitest";
import { createKontextClient, KontextRequestNotFoundError } from "../src/index.js";

const BASE = "http://mock.test";
const KEY = "key-id:storage-secret-1234";

/** A client on the mock, queue and storage on the same host; the mock's requests are the evidence. */
function setup(
  options: { uploadThreshold?: number | false; faults?: NonNullable<Parameters<typeof createKontextMock>[0]>["faults"] } = {},
) {
  const clock = createManualClock();
  const mock = createKontextMock({ clock, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 10 }, faults: options.faults });
  const client = createKontextClient({
    credentials: KEY,
    baseUrl: BASE,
    storageBaseUrl: BASE,
    uploadThreshold: options.uploadThreshold,
    fetch: mock.fetch,
    retry: { baseDelay: 1, maxDelay: 5 },
  });
  return { mock, client, clock };
}

/** A 25 MB "photo": a JPEG signature and zeros (the mock only stores and serves bytes). */
function photo(size = 25 * 1024 * 1024): Blob {
  const bytes = new Uint8Array(size);
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  return new Blob([bytes], { type: "image/jpeg" });
}

describe("large binary images go to storage", () => {
  it("a 25 MB Blob on the edit endpoint: the submit body is under 2 kB, the mock stores and serves the bytes", async () => {
    const { mock, client } = setup();
    const image = photo();
    const job = client.start("fal-ai/flux-pro/kontext/max", { prompt: "make it snow", image_url: image });
    await job.requestId;
    const submit = mock.requests.find((entry) => entry.operation === "submit");
    expect(submit?.bodyBytes ?? Number.POSITIVE_INFINITY).toBeLessThan(2048);
    const sent = submit?.body as { image_url: string };
    expect(sent.image_url).toMatch(/^http:\/\/mock\.test\/storage\/files\/[0-9a-f]{32}\/\d+\.jpg$/);
    // The key went to the initiate only, never with the bytes.
    const uploads = mock.requests.filter((entry) => entry.operation === "upload");
    expect(uploads.map((entry) => [entry.method, entry.headers.authorization !== undefined])).toEqual([
      ["POST", true],
      ["PUT", false],
    ]);
    const served = await mock.fetch(sent.image_url);
    expect(served.headers.get("content-type")).toBe("image/jpeg");
    expect((await served.arrayBuffer()).byteLength).toBe(image.size);
    await job.cancel();
  });

  it("small images stay inline data URIs; uploadThreshold false never uploads", async () => {
    for (const uploadThreshold of [undefined, false] as const) {
      const { mock, client } = setup({ uploadThreshold });
      const small = uploadThreshold === false ? photo(2 * 1024 * 1024) : photo(10_000);
      await client.submit("fal-ai/flux-pro/kontext", { prompt: "p", image_url: small });
      expect(mock.requests.some((entry) => entry.operation === "upload")).toBe(false);
      const sent = mock.requests.find((entry) => entry.operation === "submit")?.body as { image_url: string };
      expect(sent.image_url).toMatch(/^data:image\/jpeg;base64,/);
    }
  });

  it("a failed PUT is retried against the same signed URL: one file, one URL in the input", async () => {
    const mock = createKontextMock();
    let failPuts = 1;
    const puts: string[] = [];
    // The signed URL answers 503 once, as a busy CDN would.
    const fetch: typeof globalThis.fetch = async (input, init) => {
      if (init?.method === "PUT") {
        puts.push(String(input));
        if (failPuts-- > 0) return new Response("busy", { status: 503 });
      }
      return mock.fetch(input, init);
    };
    const client = createKontextClient({ credentials: KEY, baseUrl: BASE, storageBaseUrl: BASE, fetch });
    await client.submit("fal-ai/flux-pro/kontext", { prompt: "p", image_url: photo(2_000_000) });
    expect(puts).toHaveLength(2);
    expect(puts[1]).toBe(puts[0]);
    expect(mock.uploads).toHaveLength(1);
    const sent = mock.requests.find((entry) => entry.operation === "submit")?.body as { image_url: string };
    expect(sent.image_url.endsWith(mock.uploads[0]?.fileUrl as string)).toBe(true);
  });

  it("stops mid-upload when aborted, and no job is submitted", async () => {
    const { mock, client } = setup({ faults: [{ kind: "latency", operation: "upload", ms: 60_000 }] });
    const controller = new AbortController();
    const submitting = client.submit(
      "fal-ai/flux-pro/kontext/max",
      { prompt: "p", image_url: photo(3_000_000) },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("user stopped")), 20);
    await expect(submitting).rejects.toThrow("user stopped");
    expect(mock.requests.some((entry) => entry.operation === "submit")).toBe(false);
  });

  it("a custom queue host without storageBaseUrl never sends its token to fal's storage", async () => {
    const mock = createKontextMock();
    const client = createKontextClient({ credentials: KEY, baseUrl: BASE, fetch: mock.fetch });
    await expect(client.storage.upload(new Uint8Array([1]))).rejects.toThrow(/storageBaseUrl/);
    await client.submit("fal-ai/flux-pro/kontext", { prompt: "p", image_url: photo(2 * 1024 * 1024) });
    expect(mock.requests.some((entry) => entry.operation === "upload")).toBe(false);
  });
});

describe("platform options", () => {
  it("map to fal's headers and query on submit, and the mock records them", async () => {
    const { mock, client } = setup();
    await client.submit(
      "fal-ai/flux-pro/kontext/text-to-image",
      { prompt: "p" },
      { storeIO: false, objectLifecycle: { expirationDurationSeconds: 600 }, noRetry: true, maxQueueLength: 5 },
    );
    const submit = mock.requests.find((entry) => entry.operation === "submit");
    expect(submit?.headers).toMatchObject({
      "x-fal-store-io": "0",
      "x-fal-no-retry": "1",
      "x-fal-object-lifecycle-preference": JSON.stringify({ expiration_duration_seconds: 600 }),
    });
    expect(submit?.url).toContain("fal_max_queue_length=5");
  });

  it("maxQueueLength: the mock's 429 when the queue is that long already", async () => {
    const { client } = setup();
    await client.submit("fal-ai/flux-pro/kontext/text-to-image", { prompt: "first" });
    await expect(
      client.submit("fal-ai/flux-pro/kontext/text-to-image", { prompt: "second" }, { maxQueueLength: 1 }),
    ).rejects.toMatchObject({ status: 429 });
  });
});

describe("results past fal's retention", () => {
  it("a job seen COMPLETED whose result is gone: KontextRequestNotFoundError, expired, naming the rule", async () => {
    const clock = createManualClock();
    const mock = createKontextMock({
      clock,
      timeline: { queueSteps: 1, progressSteps: 1, stepMs: 10 },
      resultRetention: { ms: 1_000 },
    });
    const client = createKontextClient({ credentials: KEY, baseUrl: BASE, fetch: mock.fetch });
    const { requestId } = await client.submit("fal-ai/flux-pro/kontext/text-to-image", { prompt: "p" });
    clock.advance(100);
    const job = client.job("fal-ai/flux-pro/kontext/text-to-image", requestId, { mode: "poll" });
    const seen: string[] = [];
    for await (const status of job.statuses()) seen.push(status.status);
    expect(seen.at(-1)).toBe("COMPLETED");
    clock.advance(5_000);
    const error = await job.result().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KontextRequestNotFoundError);
    expect(error).toMatchObject({ status: 404, expired: true, requestId });
    expect((error as Error).message).toMatch(/has expired: fal keeps a result 1 hour after the job completes, 6 minutes/);
  });

  it("a 404 on an id this client never saw names both causes", async () => {
    const mock = createKontextMock();
    const client = createKontextClient({ credentials: KEY, baseUrl: BASE, fetch: mock.fetch });
    const error = await client.result("fal-ai/flux-pro/kontext", "0000-gone").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "KontextRequestNotFoundError", expired: false, requestId: "0000-gone" });
    expect((error as Error).message).toMatch(/expired \(fal keeps a result 1 hour.*\) or the id or its endpoint is wrong/);
  });
});

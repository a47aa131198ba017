/**
 * The spec's bound on a request body (`INPUT_LIMITS.maxBodyBytes`): the client uploads inline-bound images
 * until the body fits, and never sends one it knows is over (the proxy and fal answer 413). The bound is
 * read from the import, never written here, so these tests hold whatever value the spec gives it.
 */
import { createKontextMock } from "@kontext-sdk/mocks";
import { INPUT_LIMITS } from "@kontext-sdk/schema";
import { describe, expect, it } from "vitest";
import {
  createKontextClient,
  createKontextClientLite,
  DEFAULT_UPLOAD_THRESHOLD,
  type KontextClientOptions,
  KontextValidationError,
} from "../src/index.js";
import { falQueue } from "./helpers.js";

const BOUND = INPUT_LIMITS.maxBodyBytes;
const BASE = "http://mock.test";
const KEY = "key-id:body-bound-secret-1234";
const MULTI = "fal-ai/flux-pro/kontext/max/multi" as const;
const EDIT = "fal-ai/flux-pro/kontext/max" as const;

/**
 * Ten images each just under the upload threshold, a little smaller one after another, which inline
 * (4/3 larger) make a body over the bound. With the spec's 10 MiB that is ten 0.95 MiB images and the
 * default threshold; were the bound larger, the threshold is raised with it so the case stays the same.
 */
const THRESHOLD = Math.max(DEFAULT_UPLOAD_THRESHOLD, BOUND / 10);
const images = () =>
  Array.from({ length: 10 }, (_, index) => {
    const bytes = new Uint8Array(Math.round(0.95 * THRESHOLD) - index * 1000);
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    return new Blob([bytes], { type: "image/jpeg" });
  });
const dataUriLength = (blob: Blob) => "data:image/jpeg;base64,".length + 4 * Math.ceil(blob.size / 3);

/** A fetch that records what it is asked before handing it to `inner`. */
function counting(inner: typeof globalThis.fetch) {
  const calls: { url: string; method: string; body?: string }[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      body: typeof init?.body === "string" ? init.body : undefined,
    });
    return inner(input, init);
  };
  return { fetch, calls };
}

/** An edit input whose body is exactly `bytes` characters, all ASCII unless `accent` makes the prompt's first one "é" (2 bytes). */
function inputOfSize(bytes: number, accent = false) {
  const prefix = "data:image/png;base64,";
  const fixed = JSON.stringify({ prompt: "", image_url: prefix }).length;
  const data = Math.floor((bytes - fixed - 4) / 4) * 4;
  const prompt = "p".repeat(bytes - fixed - data);
  return { prompt: accent ? `é${prompt.slice(1)}` : prompt, image_url: prefix + "A".repeat(data) };
}

function expectBoundError(error: unknown) {
  expect(error).toBeInstanceOf(KontextValidationError);
  const { issues, message } = error as KontextValidationError;
  expect(issues).toEqual([expect.objectContaining({ field: "body", rule: "maxBodyBytes" })]);
  expect(issues[0]?.value).toBeGreaterThan(BOUND);
  expect(message).toContain(`${BOUND} bytes (${(BOUND / 1048576).toFixed(1)} MiB)`);
  expect(message).toMatch(/URLs.*storage\.upload.*storageBaseUrl/);
}

describe("a body over INPUT_LIMITS.maxBodyBytes", () => {
  it("ten images under the threshold: the largest go to storage until the body fits, and the job completes", async () => {
    const mock = createKontextMock({ timeline: { queueSteps: 1, progressSteps: 1, stepMs: 5 } });
    const { fetch, calls } = counting(mock.fetch);
    const client = createKontextClient({
      credentials: KEY,
      baseUrl: BASE,
      storageBaseUrl: BASE,
      uploadThreshold: THRESHOLD === DEFAULT_UPLOAD_THRESHOLD ? undefined : THRESHOLD,
      fetch,
      retry: { baseDelay: 1, maxDelay: 5 },
    });
    const given = images();
    // Inline, they would not fit: the case is real.
    expect(given.reduce((sum, blob) => sum + dataUriLength(blob), 0)).toBeGreaterThan(BOUND);

    const result = await client.subscribe(MULTI, { prompt: "p", image_urls: given }, { mode: "poll", pollInterval: 2 });
    expect(result.data.images.length).toBeGreaterThan(0);

    const submits = calls.filter((call) => call.method === "POST" && call.url.endsWith(`/${MULTI}`));
    expect(submits).toHaveLength(1);
    const body = submits[0]?.body as string;
    expect(new TextEncoder().encode(body).byteLength).toBeLessThanOrEqual(BOUND);
    const sent = (JSON.parse(body) as { image_urls: string[] }).image_urls;
    // Nothing lost: ten images in their order, each a data URI of its bytes or a stored file.
    expect(sent).toHaveLength(10);
    const uploaded = sent.flatMap((url, index) => (url.startsWith("data:") ? [] : [index]));
    expect(uploaded.length).toBeGreaterThan(0);
    expect(uploaded.length).toBeLessThan(10);
    expect(mock.uploads).toHaveLength(uploaded.length);
    // The largest went (the images shrink with their index), and no more than needed: one more inline would not fit.
    expect(uploaded).toEqual(uploaded.map((_, index) => index));
    for (const url of sent.filter((entry) => !entry.startsWith("data:")))
      expect(url).toMatch(/^http:\/\/mock\.test\/storage\/files\//);
    const smallestUploaded = given[uploaded.length - 1] as Blob;
    expect(body.length + dataUriLength(smallestUploaded)).toBeGreaterThan(BOUND);
    sent.forEach((url, index) => {
      if (url.startsWith("data:")) expect(url).toHaveLength(dataUriLength(given[index] as Blob));
    });
  });

  it("the same images with no uploader: KontextValidationError naming the bound, and no request at all", async () => {
    const configs: KontextClientOptions[] = [{ baseUrl: BASE, syncBaseUrl: BASE }, { uploadThreshold: false }];
    for (const create of [createKontextClient, createKontextClientLite]) {
      for (const config of configs) {
        const { fetch, calls } = falQueue();
        const client = create({ credentials: KEY, fetch, ...config });
        expectBoundError(await client.submit(MULTI, { prompt: "p", image_urls: images() }).catch((error) => error));
        // run() shares submit's body code; once per client is enough (each try encodes ten images).
        if (config.baseUrl)
          expectBoundError(await client.run(MULTI, { prompt: "p", image_urls: images() }).catch((error) => error));
        expect(calls, `${create.name} ${JSON.stringify(config)}`).toHaveLength(0);
      }
    }
  });

  it("a data URI string the caller gave: the same error before any request, uploader or not, submit and run", async () => {
    for (const create of [createKontextClient, createKontextClientLite]) {
      const { fetch, calls } = falQueue();
      const client = create({ credentials: KEY, fetch });
      const input = inputOfSize(BOUND + 1);
      expectBoundError(await client.submit(EDIT, input).catch((error) => error));
      expectBoundError(await client.run(EDIT, input).catch((error) => error));
      expectBoundError(await client.subscribe(EDIT, input).catch((error) => error));
      expect(calls).toHaveLength(0);
    }
  });

  it("counts UTF-8 bytes, not characters: a body of BOUND characters with one 'é' is refused", async () => {
    const { fetch, calls } = falQueue();
    const input = inputOfSize(BOUND, true);
    expect(JSON.stringify(input)).toHaveLength(BOUND);
    expectBoundError(
      await createKontextClientLite({ credentials: KEY, fetch })
        .submit(EDIT, input)
        .catch((error) => error),
    );
    expect(calls).toHaveLength(0);
  });

  it("a body of exactly the bound is sent, and the mock (same bound) takes it", async () => {
    const mock = createKontextMock();
    const { fetch, calls } = counting(mock.fetch);
    const client = createKontextClient({ credentials: KEY, baseUrl: BASE, storageBaseUrl: BASE, fetch });
    const input = inputOfSize(BOUND);
    const job = await client.submit(EDIT, input);
    expect(job.requestId).toBeTruthy();
    expect(calls).toHaveLength(1);
    expect(new TextEncoder().encode(calls[0]?.body).byteLength).toBe(BOUND);
    expect(mock.requests.find((entry) => entry.operation === "submit")?.bodyBytes).toBe(BOUND);
  });
});

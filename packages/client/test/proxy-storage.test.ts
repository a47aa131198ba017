/**
 * Storage uploads through the proxy (issue 16, "Proxy"): a browser-like client, the proxy and the mock
 * server on real loopback sockets. The initiate goes through the proxy with the server's key; the bytes
 * go from the client straight to the mock's signed URL, with no key; a proxy without `storage` refuses
 * the initiate clearly and nothing reaches upstream.
 */
import type { Server } from "node:http";
import { createFalClient } from "@fal-ai/client";
import { createManualClock } from "@kontext-sdk/mocks";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createKontextClient, KontextApiError } from "../src/index.js";
import { close, listen } from "./support/proxy-server.js";

const KEY = "server-key-id:server-storage-secret-123456";
const MAX = "fal-ai/flux-pro/kontext/max";
const TIMELINE = { queueSteps: 1, progressSteps: 1, stepMs: 1000 };
// The mock server caps every body at the spec's 10 MiB, its upload PUTs included; a 25 MB file needs more room.
const MOCK_BODY_CAP = 64 * 1024 * 1024;

/** One call the browser made: where it went, whether it carried a key, and (from the proxy) the answer's text. */
interface Sent {
  method: string;
  url: string;
  authorization: boolean;
  /** The request body's size in bytes (0 without one). */
  bytes: number;
  answer?: string;
}

const sizeOf = (body: BodyInit | null | undefined) =>
  body == null ? 0 : typeof body === "string" ? new TextEncoder().encode(body).length : body instanceof Blob ? body.size : -1;

/**
 * A page's fetch: same-origin headers added (Node's fetch is not a browser), every call recorded, and
 * the proxy's answers kept as text so a test can look for the key in them.
 */
function browserFetch(proxyOrigin: string, sent: Sent[]): typeof fetch {
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const headers = new Headers(init?.headers);
    headers.set("origin", proxyOrigin);
    headers.set("sec-fetch-site", "same-origin");
    const entry: Sent = {
      method: init?.method ?? "GET",
      url,
      authorization: headers.has("authorization"),
      bytes: sizeOf(init?.body),
    };
    sent.push(entry);
    const response = await fetch(input, { ...init, headers });
    if (url.startsWith(proxyOrigin)) entry.answer = await response.clone().text();
    return response;
  };
}

/** A "photo": a JPEG signature, then a repeating pattern (so a wrong byte anywhere shows). */
function photo(size: number): Blob {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index++) bytes[index] = index % 251;
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  return new Blob([bytes], { type: "image/jpeg" });
}

describe("storage uploads through the proxy (storage on)", () => {
  let mock: MockServer;
  let proxy: { url: string; server: Server };
  let proxyUrl: string;
  const operations: string[] = [];

  beforeAll(async () => {
    mock = await startMockServer({ timeline: TIMELINE, clock: createManualClock(), maxBodyBytes: MOCK_BODY_CAP });
    proxy = await listen({
      credentials: KEY,
      target: { queue: mock.url },
      // fal's REST host, as the client names it, is mapped onto the mock (which runs the storage flow).
      storage: { target: mock.url },
      authorizeOperation: (operation) => {
        operations.push(operation.kind === "upload" ? `upload:${operation.multipart}` : operation.kind);
        return true;
      },
    });
    proxyUrl = `${proxy.url}/api/fal/proxy`;
  });
  afterAll(async () => {
    await close(proxy.server);
    await mock.close();
  });
  beforeEach(() => {
    mock.mock.reset();
    operations.length = 0;
  });

  it("client.storage.upload: the initiate goes through the proxy with the server's key, the PUT straight to storage without one", async () => {
    const sent: Sent[] = [];
    const client = createKontextClient({ proxyUrl, fetch: browserFetch(proxy.url, sent) });
    const image = photo(300_000);
    const fileUrl = await client.storage.upload(image, { fileName: "cat.jpg" });

    expect(fileUrl.startsWith(`${mock.url}/storage/files/`)).toBe(true);
    expect(operations).toEqual(["upload:false"]);
    // The browser: one initiate to the proxy, one PUT to the mock's signed URL; no key on either.
    expect(
      sent.map((call) => [
        call.method,
        call.url.startsWith(proxyUrl) ? "proxy" : call.url.startsWith(mock.url) ? "storage" : call.url,
      ]),
    ).toEqual([
      ["POST", "proxy"],
      ["PUT", "storage"],
    ]);
    expect(sent.every((call) => !call.authorization)).toBe(true);
    // The mock: the initiate carried the server's key, the PUT none, and the bytes never passed through the proxy.
    const uploads = mock.mock.requests.filter((entry) => entry.operation === "upload");
    expect(uploads.map((entry) => [entry.method, entry.headers.authorization])).toEqual([
      ["POST", "Key [redacted]"],
      ["PUT", undefined],
    ]);
    expect(uploads[0]?.headers["x-fal-target-url"]).toBeUndefined();
    expect(uploads[0]?.url).toContain("/storage/upload/initiate?storage_type=fal-cdn-v3");
    const stored = mock.mock.uploads.find((file) => file.fileUrl === new URL(fileUrl).pathname);
    expect([stored?.fileName, stored?.size]).toEqual(["cat.jpg", image.size]);
    // The mock serves the very bytes.
    const served = await fetch(fileUrl);
    expect(served.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(new Uint8Array(await image.arrayBuffer()));
    for (const call of sent) expect(call.answer ?? "").not.toContain("server-storage-secret");
  });

  it("a 25 MB Blob given to start on kontext/max: uploaded first, the submit body through the proxy is under 2 kB", async () => {
    const sent: Sent[] = [];
    const client = createKontextClient({ proxyUrl, fetch: browserFetch(proxy.url, sent) });
    const image = photo(25 * 1024 * 1024);
    const job = client.start(MAX, { prompt: "make it snow", image_url: image });
    await job.requestId;

    const submit = mock.mock.requests.find((entry) => entry.operation === "submit");
    expect(submit?.bodyBytes ?? Number.POSITIVE_INFINITY).toBeLessThan(2048);
    const { image_url } = (submit?.body ?? {}) as { image_url: string };
    expect(image_url.startsWith(`${mock.url}/storage/files/`)).toBe(true);
    // Nothing the browser sent to the proxy was large: the 25 MB went to the signed URL only. (Two POSTs,
    // the initiate and the submit; a loaded machine may see the client retry one of them.)
    const toProxy = sent.filter((call) => call.url.startsWith(proxyUrl));
    expect(toProxy.length).toBeGreaterThanOrEqual(2);
    expect(toProxy.every((call) => call.method === "POST" && call.bytes >= 0 && call.bytes < 4096)).toBe(true);
    expect(sent.filter((call) => !call.url.startsWith(proxyUrl)).map((call) => [call.method, call.bytes])).toEqual([
      ["PUT", image.size],
    ]);
    const put = mock.mock.requests.find((entry) => entry.operation === "upload" && entry.method === "PUT");
    expect(put).toBeDefined();
    expect(put?.headers.authorization).toBeUndefined();
    expect(mock.mock.uploads.find((file) => file.fileUrl === new URL(image_url).pathname)?.size).toBe(image.size);
    expect(operations).toEqual(["upload:false", "submit"]);
    const served = await fetch(image_url);
    expect((await served.arrayBuffer()).byteLength).toBe(image.size);
    for (const call of sent) expect(call.answer ?? "").not.toContain("server-storage-secret");
    await job.cancel();
  });

  it("a direct path under the mount reaches the same initiate", async () => {
    const response = await fetch(`${proxyUrl}/storage/upload/initiate?storage_type=fal-cdn-v3&debug=1`, {
      method: "POST",
      headers: { origin: proxy.url, "sec-fetch-site": "same-origin", "content-type": "application/json" },
      body: JSON.stringify({ content_type: "image/png", file_name: "a.png" }),
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { upload_url: string; file_url: string };
    expect(answer.upload_url.startsWith(`${mock.url}/storage/uploads/`)).toBe(true);
    expect(answer.file_url.startsWith(`${mock.url}/storage/files/`)).toBe(true);
    const initiate = mock.mock.requests.find((entry) => entry.operation === "upload");
    // Only storage_type is passed on.
    expect(initiate?.url).toMatch(/\/storage\/upload\/initiate\?storage_type=fal-cdn-v3$/);
  });

  it("@fal-ai/client's fal.storage.upload works through the proxy too", async () => {
    const sent: Sent[] = [];
    const fal = createFalClient({
      proxyUrl: { url: proxyUrl, when: "always" },
      credentials: "browser-side-key-that-must-not-travel",
      fetch: browserFetch(proxy.url, sent),
    });
    const fileUrl = await fal.storage.upload(photo(50_000));
    expect(fileUrl.startsWith(`${mock.url}/storage/files/`)).toBe(true);
    const uploads = mock.mock.requests.filter((entry) => entry.operation === "upload");
    expect(uploads.map((entry) => [entry.method, entry.headers.authorization])).toEqual([
      ["POST", "Key [redacted]"],
      ["PUT", undefined],
    ]);
    expect((await fetch(fileUrl)).status).toBe(200);
  });
});

describe("a proxy that has not allowed uploads", () => {
  let mock: MockServer;
  let proxy: { url: string; server: Server };
  let proxyUrl: string;
  const refused: Array<{ reason: string; status: number }> = [];

  beforeAll(async () => {
    mock = await startMockServer({ timeline: TIMELINE, clock: createManualClock(), maxBodyBytes: MOCK_BODY_CAP });
    proxy = await listen({
      credentials: KEY,
      target: { queue: mock.url },
      onRefused: (reason, _request, answer) => refused.push({ reason, status: answer.status }),
    });
    proxyUrl = `${proxy.url}/api/fal/proxy`;
  });
  afterAll(async () => {
    await close(proxy.server);
    await mock.close();
  });
  beforeEach(() => {
    mock.mock.reset();
    refused.length = 0;
  });

  it("client.storage.upload gets a typed 403 naming storage_not_allowed and how to enable it; nothing reaches upstream", async () => {
    const sent: Sent[] = [];
    const client = createKontextClient({ proxyUrl, fetch: browserFetch(proxy.url, sent) });
    const failure = await client.storage.upload(photo(10_000)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KontextApiError);
    const error = failure as KontextApiError;
    expect(error.status).toBe(403);
    expect(error.errorType).toBe("proxy_storage_not_allowed");
    expect(error.body).toMatchObject({ reason: "storage_not_allowed" });
    expect(error.message).toContain("storage: true");
    expect(mock.mock.requests).toEqual([]);
    expect(refused).toEqual([{ reason: "storage_not_allowed", status: 403 }]);
    // A 403 is final: the client asked once.
    expect(sent).toHaveLength(1);
  });

  it("subscribe with a 25 MB Blob fails with the same refusal before any submit", async () => {
    const client = createKontextClient({ proxyUrl, fetch: browserFetch(proxy.url, []) });
    const failure = await client
      .subscribe(MAX, { prompt: "make it snow", image_url: photo(25 * 1024 * 1024) })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KontextApiError);
    expect((failure as KontextApiError).body).toMatchObject({ reason: "storage_not_allowed" });
    expect(mock.mock.requests).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { createTransport } from "../src/http.js";
import { createStorage, MULTIPART_PART_BYTES, MULTIPART_THRESHOLD_BYTES } from "../src/storage.js";

const STORAGE = "https://rest.example";
const CDN = "https://cdn.example";
const KEY = "key-id:key-secret-value-1234";

interface Seen {
  method: string;
  url: string;
  authorization: string | null;
  size: number;
}

/** fal's storage as a tiny fake: initiate on the REST host, signed PUTs on the CDN; `failPuts` 503s first. */
function fakeStorage(options: { failPuts?: number; hangPut?: boolean } = {}) {
  const seen: Seen[] = [];
  let failPuts = options.failPuts ?? 0;
  const parts = new Map<string, number>();
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
    seen.push({
      method: request.method,
      url: request.url,
      authorization: request.headers.get("authorization"),
      size: body.length,
    });
    if (url.origin === STORAGE && url.pathname.startsWith("/storage/upload/initiate")) {
      const { file_name } = JSON.parse(new TextDecoder().decode(body));
      return Response.json({ upload_url: `${CDN}/upload/${file_name}?sig=s1`, file_url: `${CDN}/files/${file_name}` });
    }
    if (url.origin === CDN && request.method === "PUT") {
      if (options.hangPut) return new Promise<Response>(() => {});
      if (failPuts-- > 0) return new Response("busy", { status: 503 });
      const part = /\/(\d+)$/.exec(url.pathname)?.[1];
      if (part) {
        parts.set(part, body.length);
        return Response.json({ partNumber: Number(part), etag: `"e${part}"` });
      }
      return new Response(null, { status: 200 });
    }
    if (url.origin === CDN && url.pathname.endsWith("/complete")) return Response.json({ ok: true });
    return new Response("nope", { status: 404 });
  };
  return { fetch, seen, parts };
}

function storageWith(fake: ReturnType<typeof fakeStorage>) {
  const { send } = createTransport({ credentials: KEY, fetch: fake.fetch, retry: { baseDelay: 1, maxDelay: 5 } }, [STORAGE]);
  return createStorage(send, fake.fetch, STORAGE);
}

describe("storage.upload", () => {
  it("initiates with the key, PUTs the bytes without it, and returns file_url", async () => {
    const fake = fakeStorage();
    const progress: number[] = [];
    const url = await storageWith(fake).upload(new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])]), {
      fileName: "cat.png",
      lifecycle: { expirationDurationSeconds: 3600 },
      onProgress: (p) => progress.push(p.uploadedBytes),
    });
    expect(url).toBe(`${CDN}/files/cat.png`);
    const [initiate, put] = fake.seen;
    expect(initiate).toMatchObject({ method: "POST", authorization: `Key ${KEY}` });
    expect(initiate?.url).toBe(`${STORAGE}/storage/upload/initiate?storage_type=fal-cdn-v3`);
    expect(put).toMatchObject({ method: "PUT", authorization: null, size: 8 });
    expect(progress).toEqual([0, 8]);
  });

  it("sends a failed PUT again to the same signed URL, so one file_url comes out", async () => {
    const fake = fakeStorage({ failPuts: 2 });
    const url = await storageWith(fake).upload(new Uint8Array([1, 2, 3]), { fileName: "x.bin" });
    expect(url).toBe(`${CDN}/files/x.bin`);
    const puts = fake.seen.filter((s) => s.method === "PUT");
    expect(puts.map((p) => p.url)).toEqual([puts[0]?.url, puts[0]?.url, puts[0]?.url]);
    expect(fake.seen.filter((s) => s.url.includes("initiate"))).toHaveLength(1);
  });

  it("gives up after three PUTs with a typed error", async () => {
    const fake = fakeStorage({ failPuts: 5 });
    await expect(storageWith(fake).upload(new Uint8Array([1]), { fileName: "y.bin" })).rejects.toMatchObject({
      name: "KontextApiError",
      status: 503,
    });
    expect(fake.seen.filter((s) => s.method === "PUT")).toHaveLength(3);
  });

  it("aborts mid-upload with the signal's reason", async () => {
    const fake = fakeStorage({ hangPut: true });
    const controller = new AbortController();
    const upload = storageWith(fake).upload(new Uint8Array([1]), { fileName: "z.bin", signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 20);
    await expect(upload).rejects.toThrow("stop");
  });

  it("uploads files above 90 MB in 10 MB parts, then completes", async () => {
    const fake = fakeStorage();
    const size = MULTIPART_THRESHOLD_BYTES + 1;
    const progress: number[] = [];
    const url = await storageWith(fake).upload(new Blob([new Uint8Array(size)], { type: "image/png" }), {
      fileName: "big.png",
      onProgress: (p) => progress.push(p.uploadedBytes),
    });
    expect(url).toBe(`${CDN}/files/big.png`);
    const expectedParts = Math.ceil(size / MULTIPART_PART_BYTES);
    expect(fake.parts.size).toBe(expectedParts);
    expect([...fake.parts.values()].reduce((a, b) => a + b, 0)).toBe(size);
    expect(fake.seen.some((s) => s.url.startsWith(`${CDN}/upload/big.png/complete?sig=s1`))).toBe(true);
    expect(fake.seen.find((s) => s.url.includes("initiate"))?.url).toContain("/storage/upload/initiate-multipart");
    expect(progress.at(-1)).toBe(size);
  });
});

import { describe, expect, it } from "vitest";
import { createStorageSimulator } from "../src/storage.js";

const ORIGIN = "http://mock.test";

function setup(options?: Parameters<typeof createStorageSimulator>[1]) {
  let time = 0;
  const storage = createStorageSimulator(() => time, options);
  const call = (method: string, url: string, body?: BodyInit, headers?: HeadersInit) => {
    const request = new Request(url, { method, body, headers });
    return storage.handle(request, new URL(url), ORIGIN);
  };
  return { storage, call, advance: (ms: number) => (time += ms) };
}

const json = (body: unknown) => JSON.stringify(body);

describe("storage simulator", () => {
  it("initiate → PUT → the file is served at file_url until its lifecycle ends", async () => {
    const { call, advance, storage } = setup();
    const initiated = await call(
      "POST",
      `${ORIGIN}/storage/upload/initiate?storage_type=fal-cdn-v3`,
      json({ content_type: "image/png", file_name: "cat.png" }),
      { "x-fal-object-lifecycle": json({ expiration_duration_seconds: 60 }) },
    );
    expect(initiated.status).toBe(200);
    const { upload_url, file_url } = await initiated.json();
    expect(file_url).toMatch(/^http:\/\/mock\.test\/storage\/files\/[0-9a-f]{32}\/cat\.png$/);
    const bytes = new Uint8Array([1, 2, 3, 4]);
    expect((await call("PUT", upload_url, bytes, { "content-type": "image/png" })).status).toBe(200);
    const served = await call("GET", file_url);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    expect(storage.files()).toHaveLength(1);
    advance(60_000);
    expect((await call("GET", file_url)).status).toBe(404);
  });

  it("refuses a tampered signature and a second PUT to a used URL", async () => {
    const { call } = setup();
    const { upload_url } = await (
      await call("POST", `${ORIGIN}/storage/upload/initiate`, json({ content_type: "image/png", file_name: "a.png" }))
    ).json();
    expect((await call("PUT", upload_url.replace(/signature=\w+/, "signature=0"), "x")).status).toBe(403);
    expect((await call("PUT", upload_url, "x")).status).toBe(200);
    expect((await call("PUT", upload_url, "y")).status).toBe(403);
  });

  it("assembles parts in order and checks their etags", async () => {
    const { call } = setup();
    const { upload_url, file_url } = await (
      await call("POST", `${ORIGIN}/storage/upload/initiate-multipart`, json({ content_type: "image/jpeg", file_name: "b.jpg" }))
    ).json();
    const signed = new URL(upload_url);
    const at = (suffix: string) => `${signed.origin}${signed.pathname}/${suffix}${signed.search}`;
    const first = await (await call("PUT", at("1"), new Uint8Array([1, 2]))).json();
    const second = await (await call("PUT", at("2"), new Uint8Array([3]))).json();
    expect(first).toMatchObject({ partNumber: 1, etag: expect.any(String) });
    const wrong = await call("POST", at("complete"), json({ parts: [first, { ...second, etag: '"nope"' }] }));
    expect(wrong.status).toBe(400);
    expect((await call("POST", at("complete"), json({ parts: [first, second] }))).status).toBe(200);
    expect(new Uint8Array(await (await call("GET", file_url)).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("refuses an upload over the cap with 413, and a bad initiate with fal's 422", async () => {
    const { call } = setup({ maxUploadBytes: 8 });
    const { upload_url } = await (
      await call("POST", `${ORIGIN}/storage/upload/initiate`, json({ content_type: "image/png", file_name: "c.png" }))
    ).json();
    const refused = await call("PUT", upload_url, new Uint8Array(9));
    expect(refused.status).toBe(413);
    expect(refused.headers.get("x-fal-error-type")).toBe("request_too_large");
    // The protocol core's 413, the same body the mock's JSON cap and the proxy answer.
    expect(await refused.json()).toEqual({ detail: "the request body is larger than 8 bytes", error_type: "request_too_large" });
    const bad = await call("POST", `${ORIGIN}/storage/upload/initiate`, json({ content_type: "image/png" }));
    expect(bad.status).toBe(422);
    expect((await bad.json()).detail[0]).toMatchObject({ loc: ["body", "file_name"], type: "missing" });
  });
});

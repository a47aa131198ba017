/**
 * Large local images go to storage, not inline: `edit --image` with a storage host, and `kontext upload`.
 * Driven through the built CLI against a mock server (which runs fal's upload flow on its own origin).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { run, tempDir } from "./helpers.js";

const KEY = "fal-test-key-upload-7d1e";

/** A 3 MB "photo": a JPEG signature, then zeros (the mock only stores and serves bytes). */
function bigJpeg(size = 3 * 1024 * 1024): Buffer {
  const bytes = Buffer.alloc(size);
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  return bytes;
}

let server: MockServer;
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  server = await startMockServer({ port: 0, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 50 } });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await tempDir();
  server.mock.reset();
});
afterEach(async () => {
  await dir.remove();
});

const gateway = () => ["--base-url", server.url, "--key", KEY];

describe("kontext edit with a large --image", () => {
  it("uploads it to the storage host and sends the short URL", async () => {
    const photo = bigJpeg();
    await writeFile(join(dir.path, "big.jpg"), photo);
    const args = ["edit", "make it snow", "--image", "big.jpg", ...gateway(), "--storage-base-url", server.url];
    const r = await run(args, { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/uploaded big\.jpg: http:\/\/127\.0\.0\.1:\d+\/storage\/files\//);
    const submit = server.mock.requests.find((entry) => entry.operation === "submit");
    const imageUrl = (submit?.body as { image_url?: string } | undefined)?.image_url;
    expect(imageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/storage\/files\/[0-9a-f]{32}\/big\.jpg$/);
    expect(submit?.bodyBytes).toBeLessThan(2048);
    expect(server.mock.uploads).toEqual([expect.objectContaining({ fileName: "big.jpg", size: photo.length })]);
  });

  it("without a storage host (a gateway), sends it inline and says so", async () => {
    await writeFile(join(dir.path, "big.jpg"), bigJpeg());
    const r = await run(["edit", "make it snow", "--image", "big.jpg", ...gateway()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no storage host is set \(--storage-base-url\), so it is sent inline/);
    const submit = server.mock.requests.find((entry) => entry.operation === "submit");
    expect((submit?.body as { image_url?: string } | undefined)?.image_url?.startsWith("data:image/jpeg;base64,")).toBe(true);
    expect(server.mock.uploads).toEqual([]);
  });
});

describe("kontext upload", () => {
  it("prints the file's URL, and the storage host serves the bytes", async () => {
    const photo = bigJpeg(1_500_000);
    await writeFile(join(dir.path, "cat.jpg"), photo);
    const r = await run(["upload", "cat.jpg", ...gateway(), "--storage-base-url", server.url], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const url = r.stdout.trim();
    expect(url).toMatch(/\/storage\/files\/[0-9a-f]{32}\/cat\.jpg$/);
    const served = await fetch(url);
    expect(Buffer.from(await served.arrayBuffer()).equals(photo)).toBe(true);
  });

  it("refuses a file that is not an image, and a gateway without a storage host, before sending anything", async () => {
    await writeFile(join(dir.path, "notes.txt"), "hello");
    const notImage = await run(["upload", "notes.txt", ...gateway(), "--storage-base-url", server.url], { cwd: dir.path });
    expect(notImage.code).toBe(2);
    expect(notImage.stderr).toMatch(/is not an image/);
    await writeFile(join(dir.path, "cat.jpg"), bigJpeg(10_000));
    const noStorage = await run(["upload", "cat.jpg", ...gateway()], { cwd: dir.path });
    expect(noStorage.code).toBe(2);
    expect(noStorage.stderr).toMatch(/--storage-base-url/);
    expect(server.mock.requests).toEqual([]);
  });

  it("works on the embedded mock and says the URL lives only while the command runs", async () => {
    await writeFile(join(dir.path, "cat.jpg"), bigJpeg(10_000));
    const r = await run(["upload", "cat.jpg", "--json"], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ url: expect.stringMatching(/\/storage\/files\/[0-9a-f]{32}\/cat\.jpg$/) });
    expect(r.stderr).toMatch(/lives only while this command runs/);
  });
});

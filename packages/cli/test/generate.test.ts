/**
 * generate, edit and multi through the built bin: on the embedded mock (no key) and on a mock
 * server the test starts (--base-url + --key), checking the files on disk and what reached the
 * server.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { JPEG_SIGNATURE, PNG_SIGNATURE, run, solidPng, startsWith, TINY_GIF, tempDir } from "./helpers.js";

const KEY = "fal-test-key-5f2c9a1e77d04b";

/** The one submit the server saw (its body and headers as recorded). */
function submitOf(server: MockServer) {
  const submits = server.mock.requests.filter((q) => q.operation === "submit");
  expect(submits).toHaveLength(1);
  return submits[0]!;
}

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe("no key: the embedded mock", () => {
  it("generates, prints the notice once and writes JPEG files named by request id", async () => {
    const r = await run(["generate", "a red fox reading a newspaper", "--num-images", "2"], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const notices = r.stderr.split("\n").filter((l) => l.includes("mock"));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/placeholders/);
    expect(notices[0]).toContain('FAL_KEY=your-fal-key kontext generate "a red fox reading a newspaper" --num-images 2');

    const requestId = /Request (\S+) queued/.exec(r.stdout)?.[1];
    expect(requestId).toBeTruthy();
    // No resume hint: the embedded mock stops with the command, so `kontext result` could only answer 404.
    expect(r.stdout).not.toContain("kontext result");
    expect(r.stdout).toContain("this job lives only while this command runs (built-in mock)");
    expect(r.stdout).toContain('run "kontext mock" in another terminal and add --base-url http://127.0.0.1:4010 --key any');
    const paths = r.stdout.split("\n").filter((l) => l.startsWith("kontext-output/"));
    expect(paths.map((l) => l.split(/\s+/)[0])).toEqual([
      `kontext-output/${requestId}-0.jpg`,
      `kontext-output/${requestId}-1.jpg`,
    ]);
    for (const line of paths) {
      const bytes = await readFile(join(dir.path, line.split(/\s+/)[0]!));
      expect(startsWith(bytes, JPEG_SIGNATURE)).toBe(true);
    }
  });

  it.each([
    ["status", "fal-ai/flux-pro/kontext/text-to-image", "764cabcf-0000-4000-8000-000000000000"],
    ["cancel", "fal-ai/flux-pro/kontext/text-to-image", "764cabcf-0000-4000-8000-000000000000"],
    ["result", "fal-ai/flux-pro/kontext/text-to-image", "764cabcf-0000-4000-8000-000000000000"],
  ])("%s on the embedded mock says why it knows no id, without the placeholder-image banner", async (...args) => {
    const r = await run(args, { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("placeholders");
    expect(r.stderr).toContain("starts empty for this command, so it knows no request ids");
    expect(r.stderr).toContain('run "kontext mock" in another terminal and pass --base-url http://127.0.0.1:4010 --key any');
  });

  it("writes PNG files for --format png, into --out", async () => {
    const r = await run(["generate", "a lighthouse", "--format", "png", "--out", "pictures", "--json"], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.images).toHaveLength(1);
    expect(doc.images[0].path).toBe(join(dir.path, "pictures", `${doc.requestId}-0.png`));
    expect(doc.images[0].content_type).toBe("image/png");
    expect(startsWith(await readFile(doc.images[0].path), PNG_SIGNATURE)).toBe(true);
  });
});

describe("a mock server given with --base-url and --key", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ port: 0, timeline: { queueSteps: 1, progressSteps: 2, stepMs: 150 } });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.mock.reset();
  });
  const base = () => ["--base-url", server.url, "--key", KEY];

  it("--json prints one parseable document on stdout; the request id goes to stderr", async () => {
    const r = await run(["generate", "a blue whale", "-n", "3", "--seed", "42", "--aspect-ratio", "16:9", "--json", ...base()], {
      cwd: dir.path,
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ endpoint: "fal-ai/flux-pro/kontext/text-to-image", seed: 42, prompt: "a blue whale" });
    expect(doc.images).toHaveLength(3);
    for (const image of doc.images) {
      expect(image).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
        path: expect.stringContaining(doc.requestId),
        width: expect.any(Number),
        height: expect.any(Number),
        content_type: "image/jpeg",
      });
      expect(startsWith(await readFile(image.path), JPEG_SIGNATURE)).toBe(true);
    }
    expect(r.stderr).toContain(`Request ${doc.requestId} queued`);
    expect(r.stderr).toContain(`kontext result fal-ai/flux-pro/kontext/text-to-image ${doc.requestId} --base-url ${server.url}`);
    expect(r.stderr).not.toMatch(/built-in mock/);

    const submit = submitOf(server);
    expect(submit.body).toEqual({ prompt: "a blue whale", num_images: 3, seed: 42, aspect_ratio: "16:9" });
    expect(server.mock.jobs.get(doc.requestId)?.endpoint).toBe("fal-ai/flux-pro/kontext/text-to-image");
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it("--tier max picks the max text-to-image endpoint", async () => {
    const r = await run(["generate", "a fox", "--tier", "max", "--json", ...base()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).endpoint).toBe("fal-ai/flux-pro/kontext/max/text-to-image");
    expect(submitOf(server).path).toBe("/fal-ai/flux-pro/kontext/max/text-to-image");
  });

  it("reads the key from FAL_KEY and sends it with the chosen scheme", async () => {
    const r = await run(["generate", "a fox", "--json", "--base-url", server.url, "--auth-scheme", "Bearer"], {
      cwd: dir.path,
      env: { FAL_KEY: KEY },
    });
    expect(r.code, r.stderr).toBe(0);
    const submit = submitOf(server);
    // The mock redacts the value in its log but keeps the scheme.
    expect(submit.headers.authorization).toMatch(/^Bearer /);
  });

  it("edit sends a local PNG as a data URI to the max edit endpoint", async () => {
    const png = solidPng(24, 16);
    await writeFile(join(dir.path, "photo.png"), png);
    const r = await run(["edit", "make it snow", "--image", "photo.png", "--format", "png", ...base()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const submit = submitOf(server);
    expect(submit.path).toBe("/fal-ai/flux-pro/kontext/max");
    expect(submit.body).toMatchObject({ prompt: "make it snow", output_format: "png" });
    expect((submit.body as { image_url: string }).image_url).toBe(`data:image/png;base64,${png.toString("base64")}`);
    const file = r.stdout
      .split("\n")
      .find((l) => l.startsWith("kontext-output/"))
      ?.split(/\s+/)[0];
    expect(file).toMatch(/-0\.png$/);
    expect(startsWith(await readFile(join(dir.path, file!)), PNG_SIGNATURE)).toBe(true);
  });

  it("edit --tier pro uses fal-ai/flux-pro/kontext and passes http(s) URLs through", async () => {
    const url = "https://example.com/cat.png";
    const r = await run(["edit", "a hat", "--image", url, "--tier", "pro", "--json", ...base()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const submit = submitOf(server);
    expect(submit.path).toBe("/fal-ai/flux-pro/kontext");
    expect(submit.body).toMatchObject({ image_url: url });
  });

  it("multi sends every --image in order, local files sniffed by content", async () => {
    const png = solidPng(8, 8, [0, 0, 255]);
    await writeFile(join(dir.path, "a.png"), png);
    // The extension lies; the bytes say GIF.
    await writeFile(join(dir.path, "b.jpg"), TINY_GIF);
    const r = await run(["multi", "the two together", "--image", "a.png", "--image", "b.jpg", "--json", ...base()], {
      cwd: dir.path,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).endpoint).toBe("fal-ai/flux-pro/kontext/max/multi");
    const submit = submitOf(server);
    expect(submit.path).toBe("/fal-ai/flux-pro/kontext/max/multi");
    expect((submit.body as { image_urls: string[] }).image_urls).toEqual([
      `data:image/png;base64,${png.toString("base64")}`,
      `data:image/gif;base64,${TINY_GIF.toString("base64")}`,
    ]);
  });

  it("multi --tier pro uses fal-ai/flux-pro/kontext/multi", async () => {
    await writeFile(join(dir.path, "a.png"), solidPng(4, 4));
    const r = await run(["multi", "x", "--image", "a.png", "--tier", "pro", "--json", ...base()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(submitOf(server).path).toBe("/fal-ai/flux-pro/kontext/multi");
  });

  it("warns on stderr when a local image is large and no storage host is set, and still sends it inline", async () => {
    const big = Buffer.concat([solidPng(4, 4), Buffer.alloc(5.5 * 1024 * 1024)]);
    await writeFile(join(dir.path, "big.png"), big);
    const r = await run(["edit", "x", "--image", "big.png", "--json", ...base()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: big\.png is 5\.5 MB and no storage host is set \(--storage-base-url\)/);
    expect(server.mock.requests.filter((q) => q.operation === "submit")).toHaveLength(1);
  });

  it("--sync runs on <base-url>/sync without a queue", async () => {
    const r = await run(["generate", "a fox", "--sync", "--json", ...base()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.images).toHaveLength(1);
    expect(startsWith(await readFile(doc.images[0].path), JPEG_SIGNATURE)).toBe(true);
    expect(server.mock.requests.map((q) => q.operation)).toContain("run");
    expect(server.mock.requests.map((q) => q.operation)).not.toContain("submit");
  });

  it("plain progress lines (not a terminal) show the states and the job's log", async () => {
    const r = await run(["generate", "a fox", ...base()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\] in progress/);
    expect(r.stderr).toMatch(/\] completed/);
    expect(r.stderr).toMatch(/\] log: /);
    // No spinner control sequences off a terminal.
    expect(r.stderr).not.toContain("\u001b[");
  });
});

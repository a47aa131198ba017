// Runs every example script as a user would (tsx, in its own process) against the mock server.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createKontextClient } from "@kontext-sdk/client";
import { renderImage } from "@kontext-sdk/mocks";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const tsx = join(import.meta.dirname, "../../../node_modules/.bin/tsx");
const src = (name: string) => join(import.meta.dirname, "../src", name);

let server: MockServer;
const env = () => ({ ...process.env, FAL_KEY: "example-key", KONTEXT_BASE_URL: server.url });

beforeAll(async () => {
  server = await startMockServer({
    // Steps long enough that a loaded CI machine still sees each state.
    timeline: { queueSteps: 2, progressSteps: 2, stepMs: 400 },
  });
});
afterAll(() => server.close());

describe("examples/node against the mock server", () => {
  it("subscribe-with-progress shows the queue, then the image", async () => {
    const { stdout } = await run(tsx, [src("subscribe-with-progress.ts"), "a lighthouse"], { env: env() });
    expect(stdout).toMatch(/^queued \S+/m);
    expect(stdout).toMatch(/IN_QUEUE position \d/);
    expect(stdout).toMatch(/IN_PROGRESS/);
    expect(stdout).toMatch(new RegExp(`image ${server.url}/files/\\S+ 64x36`));
  }, 30_000);

  it("submit-then-resume finds the result by request id", async () => {
    const { stdout } = await run(tsx, [src("submit-then-resume.ts")], { env: env() });
    const id = stdout.match(/^submitted (\S+)/m)?.[1];
    expect(id).toBeTruthy();
    expect(stdout).toContain("status COMPLETED");
    expect(stdout).toContain(`resumed ${id}: 1 image(s), seed 7`);
  }, 30_000);

  it("cancel cancels remotely and stops a subscribe", async () => {
    const { stdout } = await run(tsx, [src("cancel.ts")], { env: env() });
    expect(stdout.match(/^cancel \S+: CANCELLATION_REQUESTED$/gm)).toHaveLength(2);
    expect(stdout).toContain("subscribe stopped: AbortError");
  }, 30_000);

  it("edit-local-file sends the file as a data URI", async () => {
    const file = join(tmpdir(), `kontext-example-${process.pid}.png`);
    await writeFile(file, renderImage("png", 32, 32, 1));
    const before = server.mock.requests.length;
    const { stdout } = await run(tsx, [src("edit-local-file.ts"), file, "night"], { env: env() });
    expect(stdout).toMatch(/^edited \S+: http:\/\/127\.0\.0\.1:\d+\/files\/\S+\.png$/m);
    const submit = server.mock.requests.slice(before).find((r) => r.method === "POST");
    expect(String((submit?.body as { image_url?: string })?.image_url)).toMatch(/^data:image\/png;base64,/);
  }, 30_000);

  it("proxy-server forwards same-origin calls with the server's key and refuses others", async () => {
    const child: ChildProcess = spawn(tsx, [src("proxy-server.ts")], { env: { ...env(), FAL_KEY: "server-only-key" } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout?.on("data", (chunk: Buffer) => {
          const match = chunk.toString().match(/listening on (\S+)/);
          if (match?.[1]) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`proxy exited ${code}`)));
      });
      const origin = new URL(url).origin;
      const browserLike = createKontextClient({ proxyUrl: url, headers: { origin }, baseUrl: server.url });
      const { data } = await browserLike.subscribe("fal-ai/flux-pro/kontext/text-to-image", { prompt: "via proxy" });
      expect(data.images).toHaveLength(1);
      const forwarded = server.mock.requests.filter((r) => r.body && (r.body as { prompt?: string }).prompt === "via proxy");
      expect(forwarded).toHaveLength(1);
      const stranger = await fetch(`${url}/fal-ai/flux-pro/kontext/text-to-image`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.example" },
        body: JSON.stringify({ prompt: "free images" }),
      });
      expect(stranger.status).toBe(403);
    } finally {
      child.kill();
    }
  }, 30_000);
});

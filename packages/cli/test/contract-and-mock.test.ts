/**
 * `kontext contract` (the contract kit on the embedded mock and on a given server) and
 * `kontext mock` (the mock server in the foreground until Ctrl-C).
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { run, start, tempDir } from "./helpers.js";

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe("kontext contract", () => {
  it("passes cleanly against the embedded mock and writes a JUnit file listing each check", async () => {
    const r = await run(["contract", "--junit", "report.xml"], { cwd: dir.path });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain("No --base-url: checking the built-in mock server");
    const checkLines = r.stdout.split("\n").filter((l) => /^[✓✗-] /.test(l));
    expect(checkLines.length).toBeGreaterThan(10);
    expect(checkLines.every((l) => l.startsWith("✓"))).toBe(true);
    expect(r.stdout).toMatch(/^PASS: \d+ passed, 0 failed/m);
    const xml = await readFile(join(dir.path, "report.xml"), "utf8");
    expect(xml.startsWith("<?xml")).toBe(true);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(checkLines.length);
  });

  it("--arazzo runs the Arazzo workflows with redocly respect against the embedded mock", async () => {
    const r = await run(["contract", "--arazzo"], { cwd: dir.path });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain("running the Arazzo workflows against the built-in mock server");
    expect(r.stdout).toMatch(/Workflows: 7 passed, 7 total/);
    expect(r.stdout).toContain("refusedInput");
  }, 120_000);

  describe("against a server given with --base-url", () => {
    let server: MockServer;
    beforeEach(async () => {
      server = await startMockServer({ port: 0, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 20 } });
    });
    afterEach(async () => {
      await server.close();
    });

    it("keeps to --endpoints and --max-images, and says how many images it requested", async () => {
      const r = await run(
        [
          "contract",
          "--base-url",
          server.url,
          "--key",
          "k",
          "--endpoints",
          "fal-ai/flux-pro/kontext/text-to-image",
          "--max-images",
          "1",
        ],
        { cwd: dir.path },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/1 image requested \(max 1\)/);
      const submits = server.mock.requests.filter((q) => q.operation === "submit");
      expect(submits.map((q) => q.path)).toEqual(["/fal-ai/flux-pro/kontext/text-to-image"]);
      // No --sync-base-url: the sync run (another image) is not attempted on a real server.
      expect(server.mock.requests.some((q) => q.operation === "run")).toBe(false);
    });

    it("exits 1 when the server breaks the contract", async () => {
      server.mock.addFault({ kind: "html", operation: "status", status: 502 });
      const r = await run(["contract", "--base-url", server.url, "--key", "k", "--endpoints", "fal-ai/flux-pro/kontext/max"], {
        cwd: dir.path,
      });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^✗ /m);
      expect(r.stdout).toMatch(/^FAIL: /m);
    });

    it("flags a gateway that answers with its upstream's URLs, unless --allow-foreign-urls", async () => {
      // A pass-through gateway in front of the mock: its answers carry the mock's (foreign) origin.
      const gateway = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const upstream = await fetch(`${server.url}${req.url}`, {
          method: req.method,
          headers: { authorization: String(req.headers.authorization ?? ""), "content-type": "application/json" },
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        });
        res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      });
      await new Promise<void>((ok) => gateway.listen(0, "127.0.0.1", ok));
      const gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
      try {
        const args = ["contract", "--base-url", gatewayUrl, "--key", "k", "--endpoints", "fal-ai/flux-pro/kontext/max"];
        const strict = await run(args, { cwd: dir.path });
        expect(strict.code, strict.stdout + strict.stderr).toBe(1);
        expect(strict.stdout).toContain("foreign-origin");
        const lenient = await run([...args, "--allow-foreign-urls"], { cwd: dir.path });
        expect(lenient.code, lenient.stdout + lenient.stderr).toBe(0);
        expect(lenient.stdout).not.toContain("foreign-origin");
      } finally {
        gateway.closeAllConnections();
        await new Promise((ok) => gateway.close(ok));
      }
    });

    it("--arazzo exits 1 and names the failing step when the server breaks a workflow", async () => {
      server.mock.addFault({ kind: "html", operation: "status", status: 502 });
      const r = await run(["contract", "--arazzo", "--base-url", server.url, "--key", "arazzo-secret-key"], { cwd: dir.path });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/stepId - waitUntilCompleted/);
      // the key reached the server in the Authorization header, never the output or the command line
      expect(r.stdout + r.stderr).not.toContain("arazzo-secret-key");
      expect(server.mock.requests.some((q) => q.operation === "submit")).toBe(true);
    }, 120_000);

    it("--arazzo refuses the TypeScript runner's flags and a budget below the workflows' images", async () => {
      const mixed = await run(["contract", "--arazzo", "--base-url", server.url, "--junit", "x.xml"], { cwd: dir.path });
      expect(mixed.code).toBe(2);
      expect(mixed.stderr).toContain("--junit belong to the TypeScript runner");
      const poor = await run(["contract", "--arazzo", "--base-url", server.url, "--max-images", "2"], { cwd: dir.path });
      expect(poor.code).toBe(2);
      expect(poor.stderr).toContain("request 6 images");
      expect(server.mock.requests).toHaveLength(0);
    });

    it("rejects unknown endpoints as a usage error", async () => {
      const r = await run(["contract", "--base-url", server.url, "--endpoints", "fal-ai/nope"], { cwd: dir.path });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--endpoints: unknown endpoint fal-ai/nope");
      expect(server.mock.requests).toHaveLength(0);
    });
  });
});

describe("kontext mock", () => {
  it("serves the queue until Ctrl-C; the CLI can use it with --base-url", async () => {
    const mock = start(["mock", "--port", "0"], { cwd: dir.path });
    const url = (await mock.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/)).split(" ").at(-1)!;
    const r = await run(["generate", "a fox", "--json", "--base-url", url, "--key", "k"], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).images).toHaveLength(1);
    mock.process.kill("SIGINT");
    const done = await mock.exit;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("Mock server stopped.");
  });

  it("a bad --port is a usage error", async () => {
    const r = await run(["mock", "--port", "http"], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--port must be a whole number");
  });

  it("--validate-at: fal's timing by default (queued, the result is the 422), or the 422 at submit", async () => {
    const submitInvalid = async (url: string) =>
      fetch(`${url}/fal-ai/flux-pro/kontext/text-to-image`, {
        method: "POST",
        headers: { authorization: "Key k", "content-type": "application/json" },
        body: JSON.stringify({ prompt: "a fox", num_images: 9 }),
      });
    for (const [args, expected] of [
      [[], 200],
      [["--validate-at", "submit"], 422],
    ] as const) {
      const mock = start(["mock", "--port", "0", ...args], { cwd: dir.path });
      try {
        const url = (await mock.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/)).split(" ").at(-1)!;
        const answer = await submitInvalid(url);
        expect(answer.status).toBe(expected);
        if (expected === 422) expect((await answer.json()).detail[0].loc).toEqual(["body", "num_images"]);
      } finally {
        mock.process.kill("SIGINT");
        await mock.exit;
      }
    }
  });

  it("a bad --validate-at or --concurrency-limit is a usage error", async () => {
    const when = await run(["mock", "--validate-at", "later"], { cwd: dir.path });
    expect([when.code, when.stderr]).toEqual([2, expect.stringContaining('--validate-at must be "result" or "submit"')]);
    const limit = await run(["mock", "--concurrency-limit", "0"], { cwd: dir.path });
    expect([limit.code, limit.stderr]).toEqual([2, expect.stringContaining("--concurrency-limit must be a whole number from 1")]);
  });
});

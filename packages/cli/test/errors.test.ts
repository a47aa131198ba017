/**
 * What goes wrong: bad command lines exit 2 naming the flag and the rule with nothing sent;
 * network and API failures exit 1 with one readable line; the key never appears in any output.
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BIN, closedPort, run, solidPng, tempDir } from "./helpers.js";

const KEY = "fal-secret-9a8b7c6d5e4f3a2b1c";

let dir: { path: string; remove(): Promise<void> };
let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ port: 0, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 10 } });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await tempDir();
  await writeFile(join(dir.path, "a.png"), solidPng(4, 4));
  await writeFile(join(dir.path, "notes.txt"), "not an image");
  server.mock.reset();
});
afterEach(async () => {
  await dir.remove();
});

const withKey = () => ["--base-url", server.url, "--key", KEY];

describe("bad command lines exit 2, name the flag and the rule, and send nothing", () => {
  it.each([
    [["generate", "a fox", "--num-images", "9"], "error: --num-images must be at most 4 (got 9)"],
    [["generate", "a fox", "-n", "0"], "error: --num-images must be at least 1 (got 0)"],
    [["generate", "a fox", "--num-images", "two"], 'error: --num-images must be an integer (got "two")'],
    [["generate", "a fox", "--guidance", "abc"], 'error: --guidance must be a number (got "abc")'],
    [["generate", "a fox", "--guidance", "25"], "error: --guidance must be at most 20 (got 25)"],
    [["generate", "a fox", "--seed", "-1"], "error: --seed must be at least 0 (got -1)"],
    [["generate", "a fox", "--seed", "1.5"], "error: --seed must be an integer (got 1.5)"],
    [["generate", "a fox", "--aspect-ratio", "5:4"], "error: --aspect-ratio must be one of"],
    [["generate", "a fox", "--format", "gif"], "error: --format must be one of"],
    [["generate", "a fox", "--safety", "9"], "error: --safety must be one of"],
    [["generate", ""], "error: <prompt> must not be empty"],
    [["generate", "a fox", "--tier", "ultra"], "option '--tier <tier>' argument 'ultra' is invalid"],
    [["generate", "a fox", "--bogus"], "unknown option '--bogus'"],
    [["generate"], "missing required argument 'prompt'"],
    [["generate", "a fox", "--image", "a.png"], "unknown option '--image'"],
    [["edit", "make it snow"], "error: --image is required"],
    [["edit", "x", "--image", "a.png", "--image", "a.png"], "error: edit takes one --image (got 2)"],
    [
      ["edit", "x", "--image", "missing.png"],
      "error: --image: no such file: missing.png; pass an image file (PNG, JPEG, WebP, GIF or AVIF), an http(s) URL or a data: URL",
    ],
    [
      ["edit", "x", "--image", "notes.txt"],
      "error: --image: notes.txt is not an image (its first bytes are not PNG, JPG, GIF, WEBP, AVIF); pass an image file (PNG, JPEG, WebP, GIF or AVIF), an http(s) URL or a data: URL",
    ],
    [
      ["edit", "x", "--image", "ftp://example.com/a.png"],
      "error: --image ftp://example.com/a.png is not something fal can read; pass an image file",
    ],
    [["generate", "a fox", "-o", "a.png"], "error: --out a.png is a file, not a directory"],
    [["generate", "a fox", "-o", "a.png/pictures"], "error: --out a.png/pictures cannot be created: a.png is a file"],
    [["edit", "x", "--image", "a.png", "--out", "notes.txt"], "error: --out notes.txt is a file, not a directory"],
    [["result", "fal-ai/flux-pro/kontext", "some-id", "--out", "notes.txt"], "error: --out notes.txt is a file, not a directory"],
    [["generate", "a fox", "--timeout", "0"], "error: --timeout must be a number of seconds above 0"],
    [["multi", "x", "--image", "a.png", "--image", "missing.png"], "error: --image #2: no such file: missing.png"],
    [["multi", "x"], "error: --image is required"],
    [["status", "fal-ai/flux-pro/kontext"], "missing required argument 'request-id'"],
    [["frobnicate"], "unknown command 'frobnicate'"],
  ])("kontext %j", async (args, message) => {
    const r = await run([...args, ...withKey()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe("");
    expect(server.mock.requests).toHaveLength(0);
  });

  it("a file name with terminal escapes is printed escaped", async () => {
    const name = "bad\u001b[31mname\u0007.png";
    await writeFile(join(dir.path, name), "not an image");
    const r = await run(["edit", "x", "--image", name, ...withKey()], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: --image: bad\\u001b[31mname\\u0007.png is not an image");
    // No control character reaches the terminal.
    expect(r.stderr).not.toContain("\u001b");
    expect(r.stderr).not.toContain("\u0007");
    expect(server.mock.requests).toHaveLength(0);
  });

  it("every issue is listed, one line each", async () => {
    const r = await run(["generate", "a fox", "-n", "9", "--guidance", "0", ...withKey()], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: --num-images must be at most 4 (got 9)\n");
    expect(r.stderr).toContain("error: --guidance must be at least 1 (got 0)\n");
    expect(r.stderr).toContain('(nothing was sent; see "kontext generate --help")');
  });

  it.each([
    [["--base-url", "not a url"], "--base-url must be an http(s) URL"],
    [["--base-url", "ftp://example.com"], "--base-url must be an http(s) URL"],
    [["--auth-scheme", "Basic"], "option '--auth-scheme <scheme>' argument 'Basic' is invalid"],
  ])("global %j", async (extra, message) => {
    const r = await run(["generate", "a fox", "--key", KEY, ...extra], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("without a key, bad input does not even start the embedded mock", async () => {
    const r = await run(["generate", "a fox", "--num-images", "9"], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("mock");
  });
});

describe("failures exit 1 with one readable line and never show the key", () => {
  const lines = (text: string) =>
    text
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("["));

  it("a refused connection", async () => {
    const port = await closedPort();
    const r = await run(["generate", "a fox", "--base-url", `http://127.0.0.1:${port}`, "--key", KEY], { cwd: dir.path });
    expect(r.code).toBe(1);
    // The host and port it tried, the socket's code and the call: enough to spot a wrong --base-url.
    expect(lines(r.stderr)).toEqual([
      `error: network error: cannot reach 127.0.0.1:${port} (ECONNREFUSED) - POST /fal-ai/flux-pro/kontext/text-to-image`,
    ]);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it("an API error names the status and fal's error type; a key echoed by the server is blanked", async () => {
    server.mock.addFault({
      kind: "status",
      operation: "submit",
      status: 403,
      body: { detail: `key ${KEY} is not allowed to use this app`, error_type: "forbidden" },
      headers: { "x-fal-error-type": "forbidden" },
    });
    const r = await run(["generate", "a fox", ...withKey()], { cwd: dir.path });
    expect(r.code).toBe(1);
    const [line] = lines(r.stderr);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(line).toMatch(/^error: API error: HTTP 403 forbidden - key \[redacted\] is not allowed/);
    expect(line).toContain("check FAL_KEY or --key");
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it("a job that fails at its result names the request id", async () => {
    server.mock.addFault({ kind: "fail-at-result", status: 500 });
    const r = await run(["generate", "a fox", ...withKey()], { cwd: dir.path });
    expect(r.code).toBe(1);
    const id = /Request (\S+) queued/.exec(r.stdout)?.[1];
    expect(id).toBeTruthy();
    expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^error: API error: HTTP 500.*\\(request ${id}\\)$`))]);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it("a 422 at the result is an input error: exit 2, fal's field errors, the request id", async () => {
    server.mock.addFault({ kind: "fail-at-result", status: 422 });
    const r = await run(["generate", "a fox", ...withKey()], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(2);
    const id = /Request (\S+) queued/.exec(r.stdout)?.[1];
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^error: the API rejected the input \\(HTTP 422\\): .+ \\(request ${id}\\)$`)),
    ]);
    // The job was sent, so the "nothing was sent" line of a bad flag would be wrong here.
    expect(r.stderr).not.toContain("nothing was sent");
  });

  it("the key given as FAL_KEY is never printed either, even in a failure", async () => {
    const port = await closedPort();
    const r = await run(["generate", "a fox", "--base-url", `http://127.0.0.1:${port}`], {
      cwd: dir.path,
      env: { FAL_KEY: KEY },
    });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});

describe("the key in commander's own messages", () => {
  it("is blanked even when the parse fails before any command runs", async () => {
    const r = await run([KEY, "--key", KEY], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command '[redacted]'");
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});

describe("help and version", () => {
  it("--help lists the commands and exits 0", async () => {
    const r = await run(["--help"], { cwd: dir.path });
    expect(r.code).toBe(0);
    for (const command of ["generate", "edit", "multi", "status", "result", "cancel", "mock", "contract"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    }
  });

  it("generate --help shows its flags and the global ones", async () => {
    const r = await run(["generate", "--help"], { cwd: dir.path });
    expect(r.code).toBe(0);
    for (const flag of [
      "--aspect-ratio",
      "--num-images",
      "--seed",
      "--guidance",
      "--format",
      "--safety",
      "--enhance-prompt",
      "--tier",
      "--out",
      "--sync",
      "--json",
      "--key",
      "--base-url",
      "--auth-scheme",
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it("--version prints the package version", async () => {
    const { version } = (await import("../package.json", { with: { type: "json" } })).default;
    const r = await run(["--version"], { cwd: dir.path });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("the bin starts with a node shebang", async () => {
    const { readFile } = await import("node:fs/promises");
    expect((await readFile(BIN, "utf8")).startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it.each(["cli", "mocks"])(
    "the %s package's bins are committed shims, so a fresh install (nothing built yet) links files that exist",
    async (pkg) => {
      const { readFile } = await import("node:fs/promises");
      const { existsSync } = await import("node:fs");
      const root = join(import.meta.dirname, "../..", pkg);
      const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
        bin: Record<string, string>;
        files: string[];
      };
      expect(Object.keys(manifest.bin).length).toBeGreaterThan(0);
      for (const target of Object.values(manifest.bin)) {
        // pnpm warns "Failed to create bin" for a target under dist/ before the first build.
        expect(target).not.toMatch(/dist\//);
        const text = await readFile(join(root, target), "utf8");
        expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
        expect(text).toContain('import "../dist/bin.js";');
        expect(existsSync(join(root, "src/bin.ts"))).toBe(true);
        expect(manifest.files).toContain(target.replace(/^\.\//, "").split("/")[0]);
      }
    },
  );
});

/**
 * The pure pieces, in-process: flag ↔ field mapping, number parsing, image sniffing and sizes,
 * data URIs, redaction, one-line errors, shell quoting; and `main(argv, io)` driven with fake
 * streams, environment and Ctrl-C.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellWords } from "../src/commands/context.js";
import { resolveTarget } from "../src/credentials.js";
import { describeError, UsageError } from "../src/errors.js";
import { extensionOf, imageSize, savedImageType } from "../src/images.js";
import { type CliIO, main } from "../src/index.js";
import { buildInput, endpointFor, issueToFlagMessage, numberish } from "../src/inputs.js";
import { solidPng, TINY_GIF } from "./helpers.js";

describe("endpoint choice", () => {
  it("defaults to the three starting endpoints and follows --tier", () => {
    expect(endpointFor("text-to-image")).toBe("fal-ai/flux-pro/kontext/text-to-image");
    expect(endpointFor("edit")).toBe("fal-ai/flux-pro/kontext/max");
    expect(endpointFor("multi")).toBe("fal-ai/flux-pro/kontext/max/multi");
    expect(endpointFor("text-to-image", "max")).toBe("fal-ai/flux-pro/kontext/max/text-to-image");
    expect(endpointFor("edit", "pro")).toBe("fal-ai/flux-pro/kontext");
    expect(endpointFor("multi", "pro")).toBe("fal-ai/flux-pro/kontext/multi");
  });
});

describe("flags → input", () => {
  it("maps every flag to its field, with numbers parsed and jpg spelled jpeg", async () => {
    const built = await buildInput(
      "text-to-image",
      "a fox",
      { aspectRatio: "3:2", numImages: "2", seed: "7", guidance: "4.5", format: "JPG", safety: "5", enhancePrompt: true },
      "/",
    );
    expect(built.input).toEqual({
      prompt: "a fox",
      aspect_ratio: "3:2",
      num_images: 2,
      seed: 7,
      guidance_scale: 4.5,
      output_format: "jpeg",
      safety_tolerance: "5",
      enhance_prompt: true,
    });
  });

  it("renames validation issues to the flags", () => {
    const issue = (field: string, message: string) => ({ path: `/${field}`, field, value: 1, rule: "x", message });
    expect(issueToFlagMessage(issue("guidance_scale", "guidance_scale must be at most 20 (got 30)"))).toBe(
      "--guidance must be at most 20 (got 30)",
    );
    expect(issueToFlagMessage(issue("safety_tolerance", "safety_tolerance must be one of"))).toBe("--safety must be one of");
    expect(issueToFlagMessage(issue("output_format", "output_format must be one of"))).toBe("--format must be one of");
    expect(issueToFlagMessage(issue("image_urls[1]", "image_urls[1] must match ^x"))).toBe("--image #2 must match ^x");
    expect(issueToFlagMessage(issue("something_else", "something_else is odd"))).toBe("something_else is odd");
  });

  it("numberish keeps text that is not a number, for the validator to name", () => {
    expect(numberish("3")).toBe(3);
    expect(numberish(" 2.5 ")).toBe(2.5);
    expect(numberish("1e2")).toBe(100);
    expect(numberish("-1")).toBe(-1);
    expect(numberish("three")).toBe("three");
    expect(numberish("")).toBe("");
    expect(numberish("0x10")).toBe("0x10");
  });
});

describe("images", () => {
  it("names a saved image by its bytes first, then the declared types, then --format", () => {
    expect(savedImageType(solidPng(2, 2), "image/jpeg")).toBe("image/png");
    expect(savedImageType(TINY_GIF)).toBe("image/gif");
    expect(savedImageType(Buffer.from("hello"), undefined, "image/webp; q=1")).toBe("image/webp");
    expect(savedImageType(Buffer.from("hello"), null, undefined, "jpeg")).toBe("image/jpeg");
    expect(savedImageType(Buffer.from("hello"), "text/html")).toBeUndefined();
    expect(extensionOf("image/jpeg")).toBe("jpg");
    expect(extensionOf(undefined)).toBe("bin");
  });

  it("reads sizes from PNG and GIF headers", () => {
    expect(imageSize(solidPng(24, 16))).toEqual({ width: 24, height: 16 });
    expect(imageSize(TINY_GIF)).toEqual({ width: 1, height: 1 });
    expect(imageSize(Buffer.from("hello"))).toBeUndefined();
  });
});

describe("errors", () => {
  it("the CLI's errors are KontextErrors", async () => {
    const { KontextError } = await import("@kontext-sdk/schema/protocol");
    expect(new UsageError("x")).toBeInstanceOf(KontextError);
  });

  it("describeError gives status, error type, detail and request id on one line", () => {
    const error = Object.assign(new Error("boom"), {
      name: "KontextApiError",
      status: 504,
      errorType: "request_timeout",
      requestId: "req-1",
      body: { detail: "Request timed\n out" },
    });
    expect(describeError(error)).toBe("API error: HTTP 504 request_timeout - Request timed out (request req-1)");
    expect(describeError(Object.assign(new Error("late"), { name: "KontextTimeoutError", requestId: "r2" }))).toBe(
      "timed out waiting for request r2",
    );
  });

  it("a network error names the host and port it could not reach", () => {
    const undici = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
        code: "ECONNREFUSED",
        address: "127.0.0.1",
        port: 9,
      }),
    });
    expect(describeError(undici)).toBe("network error: cannot reach 127.0.0.1:9 (ECONNREFUSED)");
    // The client's typed error: the socket may say nothing, so the CLI's own target names the host.
    const typed = Object.assign(new Error("POST /fal-ai/flux-pro/kontext: fetch failed (ENOTFOUND)"), {
      name: "KontextNetworkError",
      status: 0,
      cause: new TypeError("fetch failed"),
    });
    expect(describeError(typed, { host: "gw.example:443" })).toBe(
      "network error: cannot reach gw.example:443 (ENOTFOUND) - POST /fal-ai/flux-pro/kontext",
    );
  });

  it("a server's terminal escapes never reach the screen", () => {
    const error = Object.assign(new Error("x"), { name: "KontextApiError", status: 500, body: { detail: "boom\u001b[2J" } });
    expect(describeError(error)).toBe("API error: HTTP 500 - boom\\u001b[2J");
  });

  it("a 422 from fal keeps fal's words per field", () => {
    const error = Object.assign(new Error("rejected"), {
      name: "KontextValidationError",
      status: 422,
      requestId: "req-9",
      issues: [{ message: "image_url: could not load the image" }],
    });
    expect(describeError(error)).toBe(
      "the API rejected the input (HTTP 422): image_url: could not load the image (request req-9)",
    );
  });
});

describe("credentials", () => {
  it("no key and no base URL means the embedded mock", () => {
    expect(resolveTarget({}, {}).embedded).toBe(true);
    expect(resolveTarget({}, { FAL_KEY: "k" })).toMatchObject({ embedded: false, key: "k", authScheme: "Key" });
    expect(resolveTarget({}, { FAL_KEY_ID: "id", FAL_KEY_SECRET: "s" })).toMatchObject({ key: "id:s" });
    expect(resolveTarget({ baseUrl: "http://gw.example/" }, {})).toMatchObject({
      embedded: false,
      baseUrl: "http://gw.example",
      syncBaseUrl: "http://gw.example/sync",
    });
    expect(resolveTarget({ authScheme: "Bearer" }, { KONTEXT_BASE_URL: "https://gw.example" })).toMatchObject({
      baseUrl: "https://gw.example",
      authScheme: "Bearer",
    });
  });
});

describe("shellWords", () => {
  it("quotes what a shell would split or expand", () => {
    expect(shellWords(["generate", "a red fox", "--num-images", "2"])).toBe('generate "a red fox" --num-images 2');
    expect(shellWords(["it's $5"])).toBe(`'it'\\''s $5'`);
  });
});

describe("main(argv, io) in-process", () => {
  let server: MockServer;
  let out: string;
  beforeAll(async () => {
    server = await startMockServer({ port: 0, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 600_000 } });
    out = await mkdtemp(join(tmpdir(), "kontext-cli-unit-"));
  });
  afterAll(async () => {
    await server.close();
    await rm(out, { recursive: true, force: true });
  });

  function fakeIO(env: Record<string, string> = {}) {
    const written = { stdout: "", stderr: "" };
    let interrupt: (() => void) | undefined;
    const io: Partial<CliIO> = {
      stdout: { write: (s: string) => (written.stdout += s) },
      stderr: { write: (s: string) => (written.stderr += s) },
      env,
      cwd: out,
      onInterrupt(handler) {
        interrupt = handler;
        return () => {
          interrupt = undefined;
        };
      },
    };
    return { io, written, press: () => interrupt?.() };
  }

  it("returns 2 for bad input without touching the server", async () => {
    const { io, written } = fakeIO();
    expect(await main(["generate", "a fox", "-n", "5", "--base-url", server.url, "--key", "k"], io)).toBe(2);
    expect(written.stderr).toContain("--num-images must be at most 4");
    expect(server.mock.requests).toHaveLength(0);
  });

  it("on a terminal, a live status line shows state, queue position, elapsed time and the latest log", async () => {
    const fast = await startMockServer({ port: 0, timeline: { queueSteps: 2, progressSteps: 2, stepMs: 1_000 } });
    try {
      let screen = "";
      // What ora needs from a terminal stream; the control sequences land in `screen` too.
      const tty = {
        isTTY: true,
        columns: 120,
        write: (s: string) => {
          screen += s;
          return true;
        },
        cursorTo: () => true,
        clearLine: () => true,
        moveCursor: () => true,
      };
      const { io, written } = fakeIO({ FAL_KEY: "k" });
      const code = await main(["generate", "a fox", "--base-url", fast.url], { ...io, stderr: tty });
      expect(code, screen).toBe(0);
      expect(screen).toMatch(/in queue · position 1 · \d+\.\ds/);
      expect(screen).toMatch(/in progress · \d+\.\ds · Step \d/);
      expect(screen).toMatch(/saved 1 image · \d+\.\ds/);
      expect(written.stdout).toMatch(/-0\.jpg/);
    } finally {
      await fast.close();
    }
  });

  it("a Ctrl-C from io.onInterrupt cancels the job and returns 130", async () => {
    const { io, written, press } = fakeIO({ FAL_KEY: "unit-test-key-123" });
    const running = main(["generate", "a fox", "--base-url", server.url], io);
    await expect.poll(() => written.stdout).toMatch(/Request \S+ queued/);
    press();
    expect(await running).toBe(130);
    expect(written.stderr).toMatch(/Interrupted; cancelled request \S+ on the server\./);
    expect(server.mock.requests.some((q) => q.operation === "cancel")).toBe(true);
    expect(written.stdout + written.stderr).not.toContain("unit-test-key-123");
  });

  it("a Ctrl-C while the submit is in flight cancels as soon as the request id arrives", async () => {
    server.mock.reset();
    server.mock.addFault({ kind: "latency", ms: 400, operation: "submit" });
    const { io, written, press } = fakeIO({ FAL_KEY: "k" });
    const running = main(["generate", "a fox", "--base-url", server.url], io);
    await expect.poll(() => server.mock.requests.some((q) => q.operation === "submit")).toBe(true);
    press();
    expect(await running).toBe(130);
    expect(written.stderr).toContain("waiting for the request id");
    const id = /Request (\S+) queued/.exec(written.stdout)?.[1];
    expect(written.stderr).toContain(`Interrupted; cancelled request ${id} on the server.`);
    expect(server.mock.requests.find((q) => q.operation === "cancel")?.path).toBe(`/fal-ai/flux-pro/requests/${id}/cancel`);
  });

  it("a second Ctrl-C gives up on a cancel that hangs and prints the command that finishes the job off", async () => {
    server.mock.reset();
    server.mock.addFault({ kind: "latency", ms: 60_000, operation: "cancel" });
    const { io, written, press } = fakeIO({ FAL_KEY: "k" });
    const running = main(["generate", "a fox", "--base-url", server.url], io);
    await expect.poll(() => written.stdout).toMatch(/Request \S+ queued/);
    const id = /Request (\S+) queued/.exec(written.stdout)?.[1];
    press();
    await expect.poll(() => server.mock.requests.some((q) => q.operation === "cancel")).toBe(true);
    press();
    expect(await running).toBe(130);
    expect(written.stderr).toContain(
      `Interrupted; request ${id} may still run. Cancel it with: kontext cancel fal-ai/flux-pro/kontext/text-to-image ${id} --base-url ${server.url}`,
    );
  });
});

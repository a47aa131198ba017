/**
 * The Arazzo workflows (spec/workflows.arazzo.yaml) run by `redocly respect`, the way a gateway team
 * would run them: against our mock server they pass, and against a server that answers 200 while a job
 * is still queued they fail, naming the step. Respect also checks every answer against the spec, so a
 * spec change that breaks a conversation fails here.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterEach, describe, expect, it } from "vitest";
import { createFakeFal, serve } from "./fake-fal.js";

const WORKFLOWS = fileURLToPath(new URL("../../../spec/workflows.arazzo.yaml", import.meta.url));
const REDOCLY = fileURLToPath(new URL("../../../node_modules/.bin/redocly", import.meta.url));
const KEY = "arazzo-key-id:arazzo-key-secret";

interface RespectRun {
  code: number | null;
  output: string;
}

/** `redocly respect` on the workflow file against `serverUrl`, with the key and scheme as inputs. */
function respect(serverUrl: string, extra: string[] = []): Promise<RespectRun> {
  const args = ["respect", WORKFLOWS, "--server", `queue=${serverUrl}`, "--input", `key=${KEY}`, ...extra];
  return new Promise((resolve, reject) => {
    const child = spawn(REDOCLY, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function mockServer(options: Parameters<typeof startMockServer>[0] = {}): Promise<MockServer> {
  // Queued long enough that the cancel workflow reaches a queued job even on a loaded machine.
  const server = await startMockServer({ timeline: { queueSteps: 4, progressSteps: 2, stepMs: 150 }, ...options });
  cleanups.push(() => server.close());
  return server;
}

describe("redocly respect spec/workflows.arazzo.yaml", () => {
  it("passes against the mock server (fal's timing: the refused input's 422 comes from the result)", async () => {
    const server = await mockServer({ auth: "required" });
    const run = await respect(server.url);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Workflows: 7 passed, 7 total/);
    // the key went out in the Authorization header, and never into Respect's output
    expect(server.mock.requests.length).toBeGreaterThan(10);
    expect(run.output).not.toContain("arazzo-key-secret");
    // the refused input was accepted at submit, ran to COMPLETED and was refused by the result call
    const refusedAt = run.output.slice(run.output.indexOf("refusedInput"));
    expect(refusedAt).toMatch(/step result\s+✓ success criteria check - \$statusCode == 422/);
    const unprompted = server.mock.requests.filter(
      (request) => request.operation === "submit" && !(request.body as { prompt?: unknown }).prompt,
    );
    expect(unprompted).toHaveLength(1);
  }, 180_000);

  it("passes with a Bearer token against a mock that validates at submit, ending the refused input there", async () => {
    const server = await mockServer({ validateAt: "submit" });
    const run = await respect(server.url, [
      "--input",
      "authScheme=Bearer",
      "--workflow",
      "refusedInput",
      "--workflow",
      "textToImage",
    ]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Workflows: 2 passed, 2 total/);
    expect(server.mock.requests.filter((request) => request.operation === "submit")).toHaveLength(2);
    expect(new Set(server.mock.requests.map((request) => request.headers.authorization))).toEqual(new Set(["Bearer [redacted]"]));
    // only the text-to-image job was followed: the refused input ended at its submit
    expect(server.mock.requests.filter((request) => request.operation === "result")).toHaveLength(1);
  }, 180_000);

  it("fails against a server that answers 200 while a job is still queued, naming the step", async () => {
    const broken = await serve(createFakeFal({ okWhileQueued: true }).handler);
    cleanups.push(broken.close);
    const run = await respect(broken.url, ["--workflow", "textToImage"]);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/Workflows: 1 failed, 1 total/);
    expect(run.output).toMatch(/stepId - waitUntilCompleted/);
    // the 200 body is judged against the spec's COMPLETED status too
    expect(run.output).toMatch(/✗ schema check/);
  }, 180_000);
});

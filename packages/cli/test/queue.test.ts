/**
 * status, result and cancel on jobs that already exist on a mock server, and Ctrl-C during
 * generate cancelling the remote job.
 */
import { readFile } from "node:fs/promises";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { JPEG_SIGNATURE, run, start, startsWith, tempDir } from "./helpers.js";

const KEY = "fal-test-key-0c1d2e3f4a5b6c";
const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";

let dir: { path: string; remove(): Promise<void> };
// A job on `slow` stays IN_QUEUE for the whole test; one on `fast` completes in a fraction of a second.
let slow: MockServer;
let fast: MockServer;
beforeAll(async () => {
  slow = await startMockServer({ port: 0, timeline: { queueSteps: 3, progressSteps: 3, stepMs: 600_000 } });
  fast = await startMockServer({ port: 0, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 10 } });
});
afterAll(async () => {
  await Promise.all([slow.close(), fast.close()]);
});
beforeEach(async () => {
  dir = await tempDir();
  slow.mock.reset();
  fast.mock.reset();
});
afterEach(async () => {
  await dir.remove();
});

/** Queues a job directly, as another program would. */
async function submit(server: MockServer, input: Record<string, unknown> = { prompt: "a fox" }): Promise<string> {
  const response = await fetch(`${server.url}/${ENDPOINT}`, {
    method: "POST",
    headers: { authorization: "Key test", "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  expect(response.ok).toBe(true);
  return ((await response.json()) as { request_id: string }).request_id;
}

/** fal forgets a cancelled queued job at once and marks a running one; either way it will not run. */
const cancelled = (server: MockServer, id: string) => !server.mock.jobs.has(id) || server.mock.jobs.get(id)?.cancelled === true;

const flags = (server: MockServer) => ["--base-url", server.url, "--key", KEY];

describe("status", () => {
  it("prints the state and queue position; --json prints the status object", async () => {
    const id = await submit(slow);
    const plain = await run(["status", ENDPOINT, id, ...flags(slow)], { cwd: dir.path });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe("IN_QUEUE (position 2)\n");

    const json = await run(["status", ENDPOINT, id, "--json", ...flags(slow)], { cwd: dir.path });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "IN_QUEUE", request_id: id, queue_position: 2 });
    // Status lives on owner/app, not the endpoint's full path.
    expect(slow.mock.requests.filter((q) => q.operation === "status").map((q) => q.path)).toEqual([
      `/fal-ai/flux-pro/requests/${id}/status`,
      `/fal-ai/flux-pro/requests/${id}/status`,
    ]);
  });

  it("--logs asks for and prints the log lines", async () => {
    const id = await submit(fast);
    await run(["result", ENDPOINT, id, ...flags(fast)], { cwd: dir.path });
    const r = await run(["status", ENDPOINT, id, "--logs", ...flags(fast)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("COMPLETED");
    expect(r.stdout.split("\n").length).toBeGreaterThan(2);
    expect(fast.mock.requests.at(-1)?.query).toMatchObject({ logs: "1" });
  });

  it("a request id the server does not know is a not-found error naming fal's retention rule, exit 1", async () => {
    const r = await run(["status", ENDPOINT, "no-such-id", ...flags(slow)], { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error: fal does not know request no-such-id \(404\)\. Either it expired \(fal keeps a result 1 hour after the job completes, 6 minutes when the result is 10 kB or more\) or the id or its endpoint is wrong\.$/m,
    );
  });
});

describe("result", () => {
  it("waits for the job, then writes its images like generate does", async () => {
    const id = await submit(fast, { prompt: "a fox", num_images: 2 });
    const r = await run(["result", ENDPOINT, id, "--out", "got", ...flags(fast)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const files = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("got/"))
      .map((l) => l.split(/\s+/)[0]!);
    expect(files).toEqual([`got/${id}-0.jpg`, `got/${id}-1.jpg`]);
    for (const file of files) expect(startsWith(await readFile(`${dir.path}/${file}`), JPEG_SIGNATURE)).toBe(true);
  });

  it("--json prints the result document", async () => {
    const id = await submit(fast);
    const r = await run(["result", ENDPOINT, id, "--json", ...flags(fast)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ requestId: id, endpoint: ENDPOINT, prompt: "a fox" });
    expect(doc.images).toHaveLength(1);
  });

  it("--no-wait on a job still queued says so and exits 75 (try again later), asking for nothing else", async () => {
    const id = await submit(slow);
    const before = slow.mock.requests.length;
    const r = await run(["result", ENDPOINT, id, "--no-wait", ...flags(slow)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toContain(`Request ${id} is still in the queue (position 2); it has no result yet.`);
    expect(r.stderr).not.toMatch(/error:|downloading/);
    expect(r.stdout).toBe("");
    expect(slow.mock.requests.slice(before).map((q) => q.operation)).toEqual(["status"]);
  });
});

describe("cancel", () => {
  it("cancels a queued job", async () => {
    const id = await submit(slow);
    const r = await run(["cancel", ENDPOINT, id, ...flags(slow)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^(Cancelled|Cancellation requested): ${id}\\n$`));
    const cancel = slow.mock.requests.find((q) => q.operation === "cancel");
    expect(cancel).toMatchObject({ method: "PUT", path: `/fal-ai/flux-pro/requests/${id}/cancel` });
    expect(cancelled(slow, id)).toBe(true);
  });

  it("--json prints the answer", async () => {
    const id = await submit(slow);
    const r = await run(["cancel", ENDPOINT, id, "--json", ...flags(slow)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      requestId: id,
      endpoint: ENDPOINT,
      status: expect.stringMatching(/^(OK|CANCELLATION_REQUESTED)$/),
    });
  });
});

describe("Ctrl-C", () => {
  it("cancels the remote job, says so and exits 130", async () => {
    const child = start(["generate", "a slow fox", ...flags(slow)], { cwd: dir.path });
    const line = await child.waitFor(/Request \S+ queued/);
    const id = line.split(" ")[1]!;
    expect(slow.mock.jobs.get(id)?.cancelled).toBe(false);
    child.process.kill("SIGINT");
    const r = await child.exit;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`Interrupted; cancelled request ${id} on the server.`);
    const cancels = slow.mock.requests.filter((q) => q.operation === "cancel");
    expect(cancels.map((q) => q.path)).toContain(`/fal-ai/flux-pro/requests/${id}/cancel`);
    expect(cancelled(slow, id)).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it("in --json mode stdout stays empty", async () => {
    const child = start(["generate", "a slow fox", "--json", ...flags(slow)], { cwd: dir.path });
    await child.waitFor(/Request \S+ queued/);
    child.process.kill("SIGINT");
    const r = await child.exit;
    expect(r.code).toBe(130);
    expect(r.stdout).toBe("");
    expect(slow.mock.requests.some((q) => q.operation === "cancel")).toBe(true);
  });

  it("during `kontext result` only stops waiting: the job is not cancelled", async () => {
    const id = await submit(slow);
    const child = start(["result", ENDPOINT, id, ...flags(slow)], { cwd: dir.path });
    await child.waitFor(/in queue/);
    child.process.kill("SIGINT");
    const r = await child.exit;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("the job was not cancelled");
    expect(slow.mock.requests.some((q) => q.operation === "cancel")).toBe(false);
  });
});

describe("--timeout", () => {
  it("gives up after the limit, cancels the job, says so and exits 1", async () => {
    const r = await run(["generate", "a slow fox", "--timeout", "0.3", ...flags(slow)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(1);
    const id = /Request (\S+) queued/.exec(r.stdout)?.[1];
    expect(r.stderr).toContain(`error: timed out after 0.3 s; cancelled request ${id} on the server.`);
    // The cancel was sent before the command said so.
    expect(slow.mock.requests.filter((q) => q.operation === "cancel").map((q) => q.path)).toEqual([
      `/fal-ai/flux-pro/requests/${id}/cancel`,
    ]);
    expect(cancelled(slow, id!)).toBe(true);
  });

  it("must be a positive number of seconds", async () => {
    const r = await run(["generate", "a fox", "--timeout", "soon", ...flags(slow)], { cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--timeout must be a number of seconds above 0");
    expect(slow.mock.requests).toHaveLength(0);
  });
});

describe("endpoint argument", () => {
  it("an unknown endpoint is a usage error listing the known ones, nothing sent", async () => {
    const r = await run(["status", "fal-ai/flux-pro/kontext/ultra", "abc", ...flags(slow)], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("<endpoint> must be one of: fal-ai/flux-pro/kontext/text-to-image");
    expect(slow.mock.requests).toHaveLength(0);
  });
});

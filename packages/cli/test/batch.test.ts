/**
 * `kontext batch run|resume|status`, run as a user does: the built bin, no key (the embedded mock),
 * a small JSONL file with one bad line.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Child, run, start, tempDir } from "./helpers.js";

const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

/** Four good jobs and, on line 3, one with num_images out of range. */
async function writeJobs(): Promise<string> {
  const line = (id: string, input: Record<string, unknown>) => JSON.stringify({ id, endpoint: ENDPOINT, input });
  const lines = [
    line("fox-1", { prompt: "a red fox", seed: 1 }),
    line("fox-2", { prompt: "a red fox in the snow", seed: 2 }),
    line("too-many", { prompt: "four is the most", num_images: 7 }),
    line("fox-3", { prompt: "a red fox reading", seed: 3 }),
    line("fox-4", { prompt: "a red fox asleep", seed: 4 }),
  ];
  const path = join(dir.path, "jobs.jsonl");
  await writeFile(path, `${lines.join("\n")}\n`);
  return path;
}

const results = async (out: string) =>
  (await readFile(join(out, "results.jsonl"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          id: string;
          status: string;
          requestId?: string;
          files?: string[];
          error?: { reason: string; line?: number; field?: string };
        },
    );

describe("kontext batch", () => {
  it("runs the good lines on the embedded mock, reports the bad one by line and field, and resumes nothing twice", async () => {
    await writeJobs();
    const ran = await run(["batch", "run", "jobs.jsonl", "--out", "out", "--json"], { cwd: dir.path });
    // One job failed (the bad line), so the exit code says so.
    expect(ran.code, ran.stderr).toBe(1);
    expect(ran.stderr).toMatch(/No FAL_KEY set/);
    const summary = JSON.parse(ran.stdout);
    expect(summary).toMatchObject({
      total: 5,
      completed: 4,
      failed: 1,
      byReason: { invalid_input: 1 },
      submitted: 4,
      uncertain: [],
    });
    expect(summary.requests.perJob).toBeGreaterThan(1);

    const out = join(dir.path, "out");
    const lines = await results(out);
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ["fox-1", "completed"],
      ["fox-2", "completed"],
      ["fox-3", "completed"],
      ["fox-4", "completed"],
      ["too-many", "failed"],
    ]);
    expect(lines[4]!.error).toMatchObject({ reason: "invalid_input", line: 3, field: "input.num_images" });
    const files = await readdir(out);
    for (const id of ["fox-1", "fox-2", "fox-3", "fox-4"]) expect(files.some((f) => f.startsWith(`${id}-0.`))).toBe(true);

    const status = await run(["batch", "status", "out", "--json"], { cwd: dir.path });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      completed: 4,
      failed: 1,
      pending: 0,
      submitted: 0,
      uncertain: 0,
      images: 4,
    });

    const resumed = await run(["batch", "resume", "out", "--json"], { cwd: dir.path });
    expect(JSON.parse(resumed.stdout)).toMatchObject({ skipped: 4, submitted: 0, followed: 0, completed: 4 });
  });

  it("sends nothing with --strict when a line is bad, naming the line", async () => {
    await writeJobs();
    const ran = await run(["batch", "run", "jobs.jsonl", "--out", "out", "--strict"], { cwd: dir.path });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/line 3: .*num_images/);
    expect(existsSync(join(dir.path, "out", "batch.json"))).toBe(false);
  });

  it("refuses to start a second batch in a folder that holds one", async () => {
    await writeJobs();
    await run(["batch", "run", "jobs.jsonl", "--out", "out", "--json"], { cwd: dir.path });
    const again = await run(["batch", "run", "jobs.jsonl", "--out", "out"], { cwd: dir.path });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a batch/);
  });

  it("completes jobs from the mock's signed webhook deliveries with --webhook-listen", async () => {
    await writeJobs();
    const ran = await run(
      ["batch", "run", "jobs.jsonl", "--out", "out", "--webhook-listen", "0", "--late-after", "120", "--json"],
      {
        cwd: dir.path,
      },
    );
    const summary = JSON.parse(ran.stdout);
    expect(summary.completed).toBe(4);
    // Every job was completed by a verified delivery; none needed the sweep's polling.
    expect(summary.webhooks).toEqual({ delivered: 4, refused: 0, swept: 0 });
    expect(summary.requests.perJob).toBe(1);
  });
});

/** The child's exit, or a kill and a failure if it is still running after `ms` (a hang). */
async function exitWithin(child: Child, ms: number) {
  const timer = setTimeout(() => child.process.kill("SIGKILL"), ms);
  try {
    const result = await child.exit;
    expect(result.signal, `still running after ${ms} ms:\n${result.stderr}`).toBeNull();
    return result;
  } finally {
    clearTimeout(timer);
  }
}

describe("kontext batch: flags are checked before anything starts", () => {
  it("worker with a bad --concurrency and no key exits 2 at once, naming its own help page", async () => {
    const child = start(["batch", "worker", "--redis", "redis://127.0.0.1:1", "--concurrency", "0"], { cwd: dir.path });
    const r = await exitWithin(child, 10_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("error: --concurrency must be a whole number of at least 1 (got 0)");
    expect(r.stderr).toContain('see "kontext batch worker --help"');
    // The embedded mock (which kept the process alive) was never started.
    expect(r.stderr).not.toMatch(/No FAL_KEY set/);
  });

  it("run with a bad flag exits 2 without starting the embedded mock", async () => {
    await writeJobs();
    for (const flags of [
      ["--concurrency", "0"],
      ["--mode", "push"],
      ["--webhook-listen", "here"],
    ]) {
      const r = await exitWithin(start(["batch", "run", "jobs.jsonl", "--out", "out", ...flags], { cwd: dir.path }), 10_000);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('see "kontext batch run --help"');
      expect(r.stderr).not.toMatch(/No FAL_KEY set/);
      expect(existsSync(join(dir.path, "out"))).toBe(false);
    }
  });

  it("with --base-url and no key, sends the gateway no key (not the embedded mock's placeholder)", async () => {
    await writeJobs();
    const authorizations: (string | undefined)[] = [];
    const gateway = createHttpServer((req, res) => {
      authorizations.push(req.headers.authorization);
      req.resume();
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail: "no key" }));
    });
    await new Promise<void>((ok) => gateway.listen(0, "127.0.0.1", ok));
    try {
      const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
      const r = await exitWithin(
        start(["batch", "run", "jobs.jsonl", "--out", "out", "--base-url", url, "--json"], { cwd: dir.path }),
        60_000,
      );
      expect(r.code, r.stderr).not.toBe(0);
      expect(authorizations.length, r.stderr).toBeGreaterThan(0);
      expect(authorizations.filter(Boolean)).toEqual([]);
    } finally {
      gateway.closeAllConnections();
      await new Promise((ok) => gateway.close(ok));
    }
  }, 90_000);
});

/** Debian's redis-server on a free loopback port (.ci/run installs it); stopped by the returned function. */
async function startRedis(): Promise<{ url: string; stop(): void }> {
  const binary = ["/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server"].find(existsSync);
  if (!binary) throw new Error("redis-server is missing: apt-get install -y redis-server (.ci/run installs it)");
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  const address = probe.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((r) => probe.close(() => r()));
  const server = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    server.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      log += chunk;
      if (/Ready to accept connections/.test(log)) resolve();
    });
    server.on("exit", (code) => reject(new Error(`redis-server exited (${code})`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => server.kill("SIGKILL") };
}

describe("kontext batch on Redis", () => {
  it("enqueues with run --redis and a worker processes the jobs", async () => {
    await writeJobs();
    const redis = await startRedis();
    try {
      const worker = start(["batch", "worker", "--redis", redis.url, "--queue", "cli-test", "--out", "out", "-c", "3"], {
        cwd: dir.path,
      });
      await worker.waitFor(/Worker on cli-test/);
      const ran = await run(
        ["batch", "run", "jobs.jsonl", "--redis", redis.url, "--queue", "cli-test", "--out", "out", "--json"],
        {
          cwd: dir.path,
        },
      );
      const summary = JSON.parse(ran.stdout);
      expect(summary).toMatchObject({ queue: "cli-test", total: 5, completed: 4, failed: 1, byReason: { invalid_input: 1 } });
      const lines = await results(join(dir.path, "out"));
      expect(
        lines
          .filter((l) => l.status === "completed")
          .map((l) => l.id)
          .sort(),
      ).toEqual(["fox-1", "fox-2", "fox-3", "fox-4"]);
      worker.process.kill("SIGINT");
      const stopped = await worker.exit;
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toMatch(/Worker stopped: 4 completed, 0 failed/);
    } finally {
      redis.stop();
    }
  });
});

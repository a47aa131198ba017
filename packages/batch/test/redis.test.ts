/**
 * Many machines: the same 2,000 jobs through BullMQ on a real Redis (Debian's redis-server, started by
 * the test on a free loopback port), three worker processes, one killed with SIGKILL mid-run. The
 * others take its jobs over by request id: nothing lost, nothing submitted twice, uncertain reported.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAILURE_REASONS } from "../src/index.js";
import { enqueueBatch, waitForBatch } from "../src/redis.js";
import { type ChildRun, jobsPerSeed, readResults, startChild, tempDir, writeJobs } from "./helpers.js";

const JOBS = 2_000;
const REDIS_SERVER = ["/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server"].find(existsSync);
if (!REDIS_SERVER) throw new Error("redis-server is missing: apt-get install -y redis-server (.ci/run installs it)");

let server: MockServer;
let redis: ChildProcess;
let redisUrl: string;
const workers: ChildRun[] = [];

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  const address = probe.address();
  await new Promise<void>((r) => probe.close(() => r()));
  return typeof address === "object" && address ? address.port : 0;
}

async function startRedis(): Promise<void> {
  const port = await freePort();
  redis = spawn(REDIS_SERVER!, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    redis.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      log += chunk;
      if (/Ready to accept connections/.test(log)) resolve();
    });
    redis.on("exit", (code) => reject(new Error(`redis-server exited (${code}): ${log}`)));
  });
  redisUrl = `redis://127.0.0.1:${port}`;
}

beforeAll(async () => {
  await startRedis();
  server = await startMockServer({
    port: 0,
    timeline: { queueSteps: 1, progressSteps: 1, stepMs: 5 },
    faults: [
      { kind: "status", status: 429, operation: "submit", probability: 0.03 },
      { kind: "reset", operation: "submit", probability: 0.003 },
      { kind: "status", status: 503, operation: ["status", "result"], probability: 0.05 },
      { kind: "fail-at-result", operation: "submit", probability: 0.02 },
    ],
  });
});

afterAll(async () => {
  for (const w of workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill("SIGKILL");
  await server?.close();
  redis?.kill("SIGKILL");
});

function waitForOutput(child: ChildRun, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.process.stdout!.on("data", (chunk: string) => {
      text += chunk;
      if (pattern.test(text)) resolve();
    });
    void child.exit.then((r) => reject(new Error(`worker exited (${r.code}) before ${pattern}: ${r.stderr}`)));
  });
}

/** Resolves once the child has printed `count` lines matching `pattern`. */
function waitForCount(child: ChildRun, pattern: RegExp, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    child.process.stdout!.on("data", (chunk: string) => {
      seen += chunk.split("\n").filter((l) => pattern.test(l)).length;
      if (seen >= count) resolve();
    });
    void child.exit.then((r) => reject(new Error(`worker exited (${r.code}) early: ${r.stderr}`)));
  });
}

describe("BullMQ on a real Redis, three workers, one killed", () => {
  it("finishes every job once: followed by request id, never submitted twice", async () => {
    const dir = await tempDir("redis");
    const jobsFile = await writeJobs(dir, JOBS);
    const out = join(dir, "out");
    const queue = "crash-test";
    const enqueued = await enqueueBatch({ redis: redisUrl, queue, jobs: jobsFile });
    expect(enqueued.jobs).toHaveLength(JOBS);

    const env = { REDIS_URL: redisUrl, QUEUE: queue, BASE_URL: server.url, OUT: out, CONCURRENCY: "8" };
    for (let i = 0; i < 3; i++) workers.push(startChild("worker-child.mjs", [], env));
    await Promise.all(workers.map((w) => waitForOutput(w, /ready/)));

    // Kill the first worker once it has finished a random number of jobs: it holds others in flight.
    const victim = workers[0]!;
    await waitForCount(victim, /"status"/, 50 + Math.floor(Math.random() * 250));
    victim.process.kill("SIGKILL");
    expect((await victim.exit).signal).toBe("SIGKILL");

    const summary = await waitForBatch({ redis: redisUrl, queue, jobs: enqueued.jobs, out, intervalMs: 200 });
    for (const w of workers.slice(1)) w.process.kill("SIGTERM");

    const results = await readResults(out);
    expect(results).toHaveLength(JOBS);
    expect(new Set(results.map((r) => r.id)).size).toBe(JOBS);
    for (const r of results) {
      if (r.status === "completed") expect(r.files?.length).toBe(1);
      else expect(FAILURE_REASONS).toContain(r.error?.reason);
    }
    expect(summary.completed + summary.failed).toBe(JOBS);

    const perSeed = jobsPerSeed(server.mock.jobs.values());
    expect([...perSeed.values()].filter((n) => n > 1)).toHaveLength(0);
    const bySeed = new Map([...server.mock.jobs.values()].map((job) => [job.input.seed as number, job.requestId]));
    for (const r of results.filter((x) => x.status === "completed")) expect(bySeed.get(Number(r.id.slice(4)))).toBe(r.requestId);

    const uncertain = results.filter((r) => r.error?.reason === "uncertain").map((r) => r.id);
    expect(summary.uncertain.sort()).toEqual(uncertain.sort());
    console.info(
      `redis test: ${summary.completed} completed, ${summary.failed} failed ${JSON.stringify(summary.byReason)}, ` +
        `${uncertain.length} uncertain, ${summary.followed} taken over by request id`,
    );
  });
});

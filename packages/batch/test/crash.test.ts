/**
 * The journal's promise, end to end: a 2,000-job batch against the mock server with random faults
 * (429s, 5xx, resets, dropped streams, failing results), its runner process killed with SIGKILL three
 * times at random points, then resumed to the end. Every job must end completed or failed with a typed
 * reason, none lost, none submitted twice (counted by the mock), and the uncertain ones reported.
 */
import { join } from "node:path";
import { type MockServer, startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BatchSummary, FAILURE_REASONS } from "../src/index.js";
import { jobsPerSeed, lineCount, readResults, startChild, tempDir, waitForLines, writeJobs } from "./helpers.js";

const JOBS = 2_000;
let server: MockServer;

beforeAll(async () => {
  server = await startMockServer({
    port: 0,
    // Jobs of a few ms: the test is about bookkeeping, not waiting.
    timeline: { queueSteps: 1, progressSteps: 1, stepMs: 5 },
    maxRecordedRequests: 100_000,
    faults: [
      { kind: "status", status: 429, operation: "submit", probability: 0.05 },
      { kind: "reset", operation: "submit", probability: 0.003 },
      { kind: "status", status: 503, operation: ["status", "result"], probability: 0.05 },
      { kind: "reset", operation: "status", probability: 0.01 },
      { kind: "stream-drop", probability: 0.2 },
      { kind: "fail-at-result", operation: "submit", probability: 0.02 },
    ],
  });
});
afterAll(() => server?.close());

describe("a 2,000-job batch killed three times", () => {
  it("ends with every job completed or failed with a typed reason, none lost, none submitted twice", async () => {
    const dir = await tempDir("crash");
    const jobsFile = await writeJobs(dir, JOBS);
    const out = join(dir, "out");
    const journal = join(out, "journal.jsonl");
    const env = { BASE_URL: server.url, CONCURRENCY: "16", POLL_MS: "10" };

    // Three runs, each killed once the journal has grown past a random point of its share of the work.
    let killed = 0;
    for (let round = 0; round < 3; round++) {
      const child = startChild("run-child.mjs", round === 0 ? ["run", out, jobsFile] : ["resume", out], env);
      const already = await lineCount(journal);
      const target = already + 300 + Math.floor(Math.random() * 900);
      const reached = await waitForLines(journal, target, child);
      if (reached) {
        child.process.kill("SIGKILL");
        killed++;
      }
      const exit = await child.exit;
      if (reached) expect(exit.signal).toBe("SIGKILL");
      else expect(exit.code, exit.stderr).toBe(0);
    }
    expect(killed).toBe(3);

    const last = startChild("run-child.mjs", ["resume", out], env);
    const exit = await last.exit;
    expect(exit.code, exit.stderr).toBe(0);
    const summary = JSON.parse(exit.stdout.trim().split("\n").at(-1)!) as BatchSummary;

    // None lost: one result line per job, each completed or failed with a reason from the closed list.
    const results = await readResults(out);
    expect(results).toHaveLength(JOBS);
    expect(new Set(results.map((r) => r.id)).size).toBe(JOBS);
    for (const r of results) {
      if (r.status === "completed") {
        expect(r.requestId).toBeTruthy();
        expect(r.files?.length).toBe(1);
      } else {
        expect(FAILURE_REASONS).toContain(r.error?.reason);
      }
    }
    expect(summary.completed + summary.failed).toBe(JOBS);

    // None submitted twice, counted by the mock: its jobs carry the seed each batch job was given.
    const perSeed = jobsPerSeed(server.mock.jobs.values());
    const twice = [...perSeed.values()].filter((n) => n > 1);
    expect(twice).toHaveLength(0);

    // Every completed job is the mock's job for that seed.
    const bySeed = new Map([...server.mock.jobs.values()].map((job) => [job.input.seed as number, job.requestId]));
    for (const r of results.filter((x) => x.status === "completed")) {
      expect(bySeed.get(Number(r.id.slice(4)))).toBe(r.requestId);
    }

    // The uncertain ones are reported: in the summary and in results.jsonl, the same jobs.
    const uncertain = results.filter((r) => r.error?.reason === "uncertain").map((r) => r.id);
    expect(summary.uncertain.sort()).toEqual(uncertain.sort());
    // Random faults of every kind fired.
    expect(summary.byReason.model_error ?? 0).toBeGreaterThan(0);
    console.info(
      `crash test: ${summary.completed} completed, ${summary.failed} failed ${JSON.stringify(summary.byReason)}, ` +
        `${uncertain.length} uncertain, ${summary.followed} followed by id in the last run`,
    );
  });
});

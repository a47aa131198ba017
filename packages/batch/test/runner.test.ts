/**
 * The runner in-process against the mock's `fetch`: the adaptive cap under the mock's account
 * concurrency limit and queue-length cap, requests per job, progress, Ctrl-C (a signal) and resume,
 * the uncertain rule, and webhook deliveries with a late one swept.
 */
import { getEventListeners } from "node:events";
import { join } from "node:path";
import { createKontextClient } from "@kontext-sdk/client";
import { createKontextMock, createManualClock } from "@kontext-sdk/mocks";
import { describe, expect, it } from "vitest";
import {
  type BatchProgress,
  batchStatus,
  createRequestMeter,
  openJournal,
  resumeBatch,
  runBatch,
  type WebhookInbox,
} from "../src/index.js";
import { ENDPOINT, jobsPerSeed, readResults, tempDir } from "./helpers.js";

const jobs = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({
    id: `job-${from + i}`,
    endpoint: ENDPOINT,
    input: { prompt: `job ${from + i}`, seed: from + i },
  }));

function setup(mockOptions: Parameters<typeof createKontextMock>[0] = {}) {
  const mock = createKontextMock({ timeline: { queueSteps: 1, progressSteps: 1, stepMs: 10 }, ...mockOptions });
  const meter = createRequestMeter(mock.fetch);
  const client = createKontextClient({ credentials: "test", fetch: meter.fetch, retry: { baseDelay: 5, maxDelay: 30 } });
  return { mock, meter, client };
}

describe("runBatch", () => {
  it("halves its cap on the mock's queue-length 429s and still runs every job once", async () => {
    // An account that runs 2 jobs at once, asked to keep at most 1 waiting, driven with a cap of 10.
    const { mock, meter, client } = setup({ concurrencyLimit: 2, timeline: { queueSteps: 0, progressSteps: 2, stepMs: 15 } });
    const out = join(await tempDir("adaptive"), "out");
    const limits: number[] = [];
    const summary = await runBatch({
      client,
      meter,
      maxQueueLength: 1,
      out,
      jobs: jobs(40),
      concurrency: 10,
      mode: "poll",
      pollInterval: 10,
      fsync: false,
      fetch: mock.fetch,
      onProgress: (p: BatchProgress) => limits.push(p.limit),
    });
    expect(summary.completed).toBe(40);
    expect(summary.rateLimited).toBeGreaterThan(0);
    expect(Math.min(...limits)).toBeLessThan(10);
    // The 429s were fal's queue-length answers to submits that carried the cap.
    const submits = mock.requests.filter((r) => r.operation === "submit");
    expect(submits.every((r) => r.query.fal_max_queue_length === "1")).toBe(true);
    expect([...jobsPerSeed(mock.jobs.values()).values()].every((n) => n === 1)).toBe(true);
    expect(mock.jobs.size).toBe(40);
  });

  it("counts requests per job in results.jsonl and the summary", async () => {
    const { mock, meter, client } = setup();
    const out = join(await tempDir("requests"), "out");
    const summary = await runBatch({
      client,
      meter,
      out,
      jobs: jobs(5),
      concurrency: 5,
      mode: "poll",
      pollInterval: 5,
      fsync: false,
      fetch: mock.fetch,
    });
    const results = await readResults(out);
    for (const r of results) {
      // Submit, at least one status, the result; never fewer than three.
      expect(r.requests).toBeGreaterThanOrEqual(3);
      const forJob = mock.requests.filter(
        (q) => q.path.includes(r.requestId!) || q.headers["x-fal-request-id"] === r.requestId,
      ).length;
      expect(forJob).toBeGreaterThan(0);
    }
    expect(summary.requests!.total).toBe(mock.requests.filter((q) => q.operation !== "files").length);
  });

  it("stops on its signal leaving jobs in flight as submitted, and resume follows them without a second submit", async () => {
    // On a manual clock the jobs stay queued until the test moves time on.
    const clock = createManualClock();
    const { mock, meter, client } = setup({ clock, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 60_000 } });
    const out = join(await tempDir("stop"), "out");
    const controller = new AbortController();
    const first = runBatch({
      client,
      meter,
      out,
      jobs: jobs(6),
      concurrency: 3,
      mode: "poll",
      pollInterval: 5,
      fsync: false,
      fetch: mock.fetch,
      signal: controller.signal,
      onProgress: (p) => {
        // Stop once three jobs are at fal.
        if (p.running === 3 && mock.jobs.size === 3) controller.abort();
      },
    });
    const stopped = await first;
    expect(stopped.stopped).toBe(true);
    expect(mock.jobs.size).toBe(3);
    const status = await batchStatus(out);
    expect(status).toMatchObject({ submitted: 3, pending: 3, completed: 0, uncertain: 0 });

    // Resume: the three at fal are followed, the other three submitted.
    // Now let time run (a minute of the mock's per tick) so the followed and the new jobs all finish.
    const ticker = setInterval(() => clock.advance(60_000), 10);
    const resumed = await resumeBatch({
      client,
      meter,
      out,
      concurrency: 3,
      mode: "poll",
      pollInterval: 5,
      fsync: false,
      fetch: mock.fetch,
    });
    clearInterval(ticker);
    expect(resumed).toMatchObject({ completed: 6, followed: 3, submitted: 3, stopped: false });
    expect(mock.jobs.size).toBe(6);
    expect([...jobsPerSeed(mock.jobs.values()).values()].every((n) => n === 1)).toBe(true);
  });

  it("reports an intent without a request id as uncertain, and resubmits it only when asked", async () => {
    const { mock, meter, client } = setup();
    const dir = await tempDir("uncertain");
    const out = join(dir, "out");
    // A finished batch of one job...
    await runBatch({ client, meter, out, jobs: jobs(1), fsync: false, fetch: mock.fetch });
    // ...and a journal that says a second job's submit was sent when the process died.
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      join(out, "jobs.jsonl"),
      `${jobs(2)
        .map((j) => JSON.stringify(j))
        .join("\n")}\n`,
    );
    const { writer } = await openJournal(join(out, "journal.jsonl"));
    await writer.append({ type: "intent", id: "job-1", at: Date.now() });
    await writer.close();

    const cautious = await resumeBatch({ client, meter, out, fsync: false, fetch: mock.fetch });
    expect(cautious.uncertain).toEqual(["job-1"]);
    expect(cautious.submitted).toBe(0);
    expect(mock.jobs.size).toBe(1);
    const results = await readResults(out);
    expect(results.find((r) => r.id === "job-1")?.error?.reason).toBe("uncertain");

    const told = await resumeBatch({ client, meter, out, fsync: false, fetch: mock.fetch, resubmitUncertain: true });
    expect(told).toMatchObject({ completed: 2, uncertain: [], submitted: 1 });
    expect(mock.jobs.size).toBe(2);
  });

  it("reports a model error with its typed reason and the field", async () => {
    const { mock, meter, client } = setup({ faults: [{ kind: "fail-at-result", operation: "submit", times: 1 }] });
    const out = join(await tempDir("model"), "out");
    const summary = await runBatch({ client, meter, out, jobs: jobs(1), fsync: false, fetch: mock.fetch });
    expect(summary.byReason).toEqual({ model_error: 1 });
    const [line] = await readResults(out);
    expect(line!.error).toMatchObject({ reason: "model_error", status: 422, field: "prompt" });
    expect(line!.requestId).toBeTruthy();
  });
});

describe("webhook mode", () => {
  it("completes jobs from verified deliveries, refuses forged ones, and sweeps a job whose delivery never came", async () => {
    let inbox: WebhookInbox | undefined;
    let lost = 0;
    // fal's deliveries reach the runner's inbox directly; the first one is lost on its way. The others
    // arrive within milliseconds, well inside lateAfterMs, so only the lost one is swept.
    const webhookFetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      if (lost++ === 0) throw new TypeError("fetch failed");
      const status = await inbox!.deliver({ headers: init!.headers as Record<string, string>, body: init!.body as string });
      return new Response(null, { status });
    }) as typeof fetch;
    const { mock, meter, client } = setup({ webhookFetch });
    const out = join(await tempDir("webhook"), "out");
    let forged: number | undefined;
    const summary = await runBatch({
      client,
      meter,
      out,
      jobs: jobs(4),
      concurrency: 4,
      fsync: false,
      fetch: mock.fetch,
      webhook: {
        url: "https://hooks.example.test/fal",
        verify: { jwks: await mock.webhookJwks() },
        lateAfterMs: 1_500,
        sweepEveryMs: 100,
      },
      onWebhookInbox: (created) => {
        inbox = created;
        const headers = {
          "x-fal-webhook-request-id": "forged",
          "x-fal-webhook-user-id": "someone",
          "x-fal-webhook-timestamp": String(Math.floor(Date.now() / 1000)),
          "x-fal-webhook-signature": "ab".repeat(64),
        };
        void created.deliver({ headers, body: JSON.stringify({ request_id: "forged", status: "OK", payload: {} }) }).then((s) => {
          forged = s;
        });
      },
    });
    expect(summary.completed).toBe(4);
    expect(summary.webhooks).toEqual({ delivered: 3, refused: 1, swept: 1 });
    expect(forged).toBe(401);
    // Every submit carried the URL; the swept job was polled, the others never were.
    const submits = mock.requests.filter((r) => r.operation === "submit");
    expect(submits.every((r) => r.query.fal_webhook === "https://hooks.example.test/fal")).toBe(true);
    const polled = new Set(
      mock.requests.filter((r) => r.operation === "status" || r.operation === "stream").map((r) => r.path.split("/")[4]),
    );
    expect(polled.size).toBe(1);
    const results = await readResults(out);
    expect(results.filter((r) => r.status === "completed")).toHaveLength(4);
  });

  it("leaves no abort listener per job on the run's signal", async () => {
    let inbox: WebhookInbox | undefined;
    const webhookFetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      const status = await inbox!.deliver({ headers: init!.headers as Record<string, string>, body: init!.body as string });
      return new Response(null, { status });
    }) as typeof fetch;
    const { mock, meter, client } = setup({ webhookFetch });
    const out = join(await tempDir("webhook-signal"), "out");
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    // undici's Request adds its own listener (a function named `abort`) for each request made with the
    // signal, held weakly and dropped when that request is collected, and raises the signal's listener
    // limit (so Node's MaxListenersExceededWarning stays quiet). The runner's listeners are the others.
    const runnerListeners = () => getEventListeners(controller.signal, "abort").filter((l) => l.name !== "abort").length;
    let most = 0;
    try {
      const summary = await runBatch({
        client,
        meter,
        out,
        jobs: jobs(24),
        concurrency: 4,
        fsync: false,
        fetch: mock.fetch,
        signal: controller.signal,
        webhook: { url: "https://hooks.example.test/fal", verify: { jwks: await mock.webhookJwks() } },
        onWebhookInbox: (created) => {
          inbox = created;
        },
        onProgress: () => {
          most = Math.max(most, runnerListeners());
        },
      });
      expect(summary.completed).toBe(24);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    // The run's own listener and one per job in flight at most, and none once the run is over.
    expect(most).toBeLessThanOrEqual(1 + 4 * 2);
    expect(runnerListeners()).toBe(0);
  });
});

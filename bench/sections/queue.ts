/**
 * Section 3: queue efficiency. Whole jobs (submit → wait → result) of about 2 s, 10 s and 60 s against
 * the mock server, for our subscribe in stream and poll mode and for @fal-ai/client's subscribe
 * (polling every 500 ms, its default). For each job:
 *  - HTTP requests it cost (the mock's request log: submit, status, stream, result);
 *  - completion-detection latency: from the moment the mock's job became COMPLETED (`job.completedAt`)
 *    to the moment subscribe resolved with the result.
 * Each job gets a mock server of its own, so its request log is its own; all jobs run at once, with
 * start times spread over windows (long jobs first), so the section takes about as long as the longest job.
 * Job lengths carry a random jitter (±max(250 ms, 5%)) so completion falls at a random point of any
 * poll interval, as with real jobs; a job of exactly 2 s would line up with a 500 ms poll grid.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createFalClient } from "@fal-ai/client";
import { importPackage, percentile, round, sleep, table, verdict } from "../lib/util.js";

const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";
const DURATIONS = [2_000, 10_000, 60_000];
const JOBS_PER_CASE = 30;
const QUEUE_STEPS = 2;
const PROGRESS_STEPS = 8;
/** When each length's jobs start (spread evenly at random over the window), so start-up bursts do not overlap. */
const START_WINDOWS: Record<number, [number, number]> = { 60000: [0, 5_000], 10000: [5_000, 15_000], 2000: [15_000, 35_000] };

type Impl = "stream" | "poll" | "fal";
const labels: Record<Impl, string> = {
  stream: "@kontext-sdk/client subscribe, stream",
  poll: "@kontext-sdk/client subscribe, poll",
  fal: "@fal-ai/client subscribe (polling 500 ms)",
};

interface JobFigure {
  impl: Impl;
  duration: number;
  actualMs: number;
  requests: number;
  byOperation: Record<string, number>;
  detectionMs: number;
  error?: string;
}

const now = () => performance.timeOrigin + performance.now();

export async function queueSection() {
  const { createKontextClient } = await importPackage("client");
  const { startMockServer } = await importPackage("mocks", "server");

  async function runJob(impl: Impl, duration: number, index: number): Promise<JobFigure> {
    const jitter = Math.max(250, duration * 0.05);
    const actual = duration + (Math.random() * 2 - 1) * jitter;
    const stepMs = Math.round(actual / (QUEUE_STEPS + PROGRESS_STEPS));
    const server = await startMockServer({ timeline: { queueSteps: QUEUE_STEPS, progressSteps: PROGRESS_STEPS, stepMs } });
    const input = { prompt: `queue bench ${impl} ${duration} #${index}`, seed: index };
    try {
      let resolvedAt: number;
      if (impl === "fal") {
        const fal = createFalClient({
          credentials: "bench",
          requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://queue.fal.run", server.url) }),
        });
        await fal.subscribe(ENDPOINT, { input, mode: "polling" });
        resolvedAt = now();
      } else {
        const client = createKontextClient({ credentials: "bench", baseUrl: server.url });
        await client.subscribe(ENDPOINT, input, { mode: impl });
        resolvedAt = now();
      }
      const job = [...server.mock.jobs.values()][0];
      if (!job) throw new Error("the mock has no job");
      const requests = server.mock.requests.filter((r: { operation?: string }) => r.operation !== "files");
      const byOperation: Record<string, number> = {};
      for (const r of requests) byOperation[r.operation ?? "other"] = (byOperation[r.operation ?? "other"] ?? 0) + 1;
      return {
        impl,
        duration,
        actualMs: job.completedAt - job.submittedAt,
        requests: requests.length,
        byOperation,
        detectionMs: resolvedAt - job.completedAt,
      };
    } catch (e) {
      return {
        impl,
        duration,
        actualMs: actual,
        requests: Number.NaN,
        byOperation: {},
        detectionMs: Number.NaN,
        error: String(e),
      };
    } finally {
      await server.close();
    }
  }

  const impls: Impl[] = ["stream", "poll", "fal"];
  // Warm-up: load and JIT every code path once before anything is measured.
  await Promise.all(impls.map((impl) => runJob(impl, 500, -1)));
  // Event-loop lag during the run: detection outliers that match it come from this process being busy
  // (or the machine), not from the client.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const figures = await Promise.all(
    DURATIONS.flatMap((duration) =>
      impls.flatMap((impl) =>
        Array.from({ length: JOBS_PER_CASE }, async (_, i) => {
          const [from, to] = START_WINDOWS[duration]!;
          await sleep(from + Math.random() * (to - from));
          return runJob(impl, duration, i);
        }),
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  lag.disable();
  const cpu = process.cpuUsage(cpu0);
  // The histogram holds whole timer intervals (the 10 ms resolution included): the lag is the excess.
  const excess = (ns: number) => round(Math.max(0, ns / 1e6 - 10), 1);
  const loop = {
    lagP50Ms: excess(lag.percentile(50)),
    lagP99Ms: excess(lag.percentile(99)),
    lagMaxMs: excess(lag.max),
    cpu: round((cpu.user + cpu.system) / 1e6 / seconds, 2),
  };

  const errors = figures.filter((f) => f.error);
  const cases: Record<string, unknown>[] = [];
  const rows: (string | number)[][] = [
    ["job", "implementation", "requests/job (mean)", "max", "by operation (mean)", "detection p50 ms", "p95 ms", "errors"],
  ];
  type Summary = { requests: number; maxRequests: number; p50: number; p95: number };
  const summary: Record<string, Partial<Record<Impl, Summary>>> = {};
  for (const duration of DURATIONS) {
    summary[duration] = {};
    for (const impl of impls) {
      const ok = figures.filter((f) => f.impl === impl && f.duration === duration && !f.error);
      const failed = figures.filter((f) => f.impl === impl && f.duration === duration && f.error).length;
      const mean = ok.reduce((s, f) => s + f.requests, 0) / ok.length;
      const max = Math.max(...ok.map((f) => f.requests));
      const ops: Record<string, number> = {};
      for (const f of ok) for (const [op, n] of Object.entries(f.byOperation)) ops[op] = (ops[op] ?? 0) + n / ok.length;
      const p50 = percentile(
        ok.map((f) => f.detectionMs),
        50,
      );
      const p95 = percentile(
        ok.map((f) => f.detectionMs),
        95,
      );
      summary[duration]![impl] = { requests: mean, maxRequests: max, p50, p95 };
      rows.push([
        `${duration / 1000} s`,
        labels[impl],
        mean.toFixed(1),
        max,
        Object.entries(ops)
          .map(([op, n]) => `${op} ${n.toFixed(1)}`)
          .join(", "),
        p50.toFixed(1),
        p95.toFixed(1),
        failed,
      ]);
      cases.push({
        durationMs: duration,
        impl,
        label: labels[impl],
        jobs: ok.length,
        errors: failed,
        requestsPerJob: round(mean, 2),
        maxRequestsPerJob: max,
        requestsByOperation: Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, round(v, 2)])),
        detectionP50Ms: round(p50, 1),
        detectionP95Ms: round(p95, 1),
      });
    }
  }
  table(
    `3. Queue efficiency (${JOBS_PER_CASE} jobs per row, all concurrent, ${QUEUE_STEPS} queue + ${PROGRESS_STEPS} progress steps; ${seconds.toFixed(0)} s)`,
    rows,
  );
  for (const e of errors.slice(0, 5)) console.log(`error (${e.impl}, ${e.duration} ms): ${e.error}`);
  console.log(
    `event-loop lag of the bench process (clients and mock servers) during the run: p50 ${loop.lagP50Ms} ms, p99 ${loop.lagP99Ms} ms, max ${loop.lagMaxMs} ms; its CPU ${Math.round(loop.cpu * 100)}%`,
  );

  const targets: Record<string, unknown>[] = [];
  for (const duration of DURATIONS) {
    const s = summary[duration] as Record<Impl, Summary>;
    const checks = [
      { name: `${duration / 1000} s stream: ≤ 4 requests/job`, value: s.stream.maxRequests, pass: s.stream.maxRequests <= 4 },
      { name: `${duration / 1000} s stream: p95 detection ≤ 50 ms`, value: round(s.stream.p95, 1), pass: s.stream.p95 <= 50 },
      {
        name: `${duration / 1000} s poll: ≤ 1/3 of fal's requests`,
        value: `${s.poll.requests.toFixed(1)} vs ${(s.fal.requests / 3).toFixed(1)}`,
        pass: s.poll.requests <= s.fal.requests / 3,
      },
      {
        name: `${duration / 1000} s poll: p50 detection ≤ fal's`,
        value: `${s.poll.p50.toFixed(0)} vs ${s.fal.p50.toFixed(0)} ms`,
        pass: s.poll.p50 <= s.fal.p50,
      },
    ];
    for (const c of checks) {
      console.log(`target: ${c.name}: ${c.value} → ${verdict(c.pass)}`);
      targets.push(c);
    }
  }
  return {
    eventLoop: loop,
    jobsPerCase: JOBS_PER_CASE,
    timeline: { queueSteps: QUEUE_STEPS, progressSteps: PROGRESS_STEPS },
    cases,
    targets,
    errors: errors.length,
  };
}

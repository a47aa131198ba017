/**
 * pnpm soak — 1,000 jobs at concurrency 50 through @kontext-sdk/client against the mock server, with
 * faults injected at random (the mock's fault rules): 429 + Retry-After, 500/502/503/504 bursts,
 * connection resets, malformed JSON, HTML error pages, dropped status streams, slow responses, and
 * results that fail after COMPLETED. Bounded (≤ 3 minutes) and self-terminating.
 *
 * Every job ends in exactly one bucket:
 *   completed            subscribe resolved with an output
 *   failed (typed)       rejected with KontextApiError (KontextNetworkError below HTTP) / KontextValidationError /
 *                        KontextTimeoutError
 *   lost                 neither resolved nor rejected by the deadline, or rejected with anything else  (must be 0)
 * and, across the run:
 *   submitted twice      a logical job (tagged by a unique prompt) that the mock accepted more than once (must be 0)
 *   unhandled rejections process-wide                                                                     (must be 0)
 * The figures go to bench/results.json under `soak`; the exit code is 1 when a must-be-0 figure is not 0.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { importPackage, machine, mb, percentile, prebuild, round, table, writeResults } from "./lib/util.js";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "50" },
    seed: { type: "string" },
    // Plants a duplicate submit and an unhandled rejection, and passes only if both are detected.
    "self-check": { type: "boolean", default: false },
    "no-prebuild": { type: "boolean", default: false },
  },
});
const JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const SELF_CHECK = values["self-check"];
const SEED = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
/** The whole soak stops here, whatever is still running. */
const HARD_LIMIT_MS = 170_000;
/** A job still pending after this long is counted lost. */
const JOB_DEADLINE_MS = 60_000;
/** subscribe's own whole-job timeout: a job stuck behind faults rejects with KontextTimeoutError first. */
const JOB_TIMEOUT_MS = 30_000;

let unhandled = 0;
const unhandledSamples: string[] = [];
process.on("unhandledRejection", (reason) => {
  unhandled++;
  if (unhandledSamples.length < 5) unhandledSamples.push(String((reason as Error)?.stack ?? reason).slice(0, 300));
});
let uncaught = 0;
process.on("uncaughtException", (error) => {
  uncaught++;
  if (unhandledSamples.length < 5) unhandledSamples.push(`uncaught: ${String(error?.stack ?? error).slice(0, 300)}`);
});

// A tiny seeded generator so a run can be repeated with --seed.
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;

function faultRules() {
  const rules: Record<string, unknown>[] = [
    { kind: "status", status: 429, retryAfter: 1, probability: 0.03 },
    { kind: "reset", probability: 0.01 },
    { kind: "malformed-json", probability: 0.01 },
    { kind: "html", status: 502, probability: 0.005 },
    { kind: "stream-drop", afterEvents: 1, probability: 0.15 },
    { kind: "latency", ms: 1_500, probability: 0.03 },
    // Slower than the client's per-call timeout: the call times out (and, if idempotent, is retried).
    { kind: "latency", ms: 6_000, probability: 0.003 },
    { kind: "fail-at-result", status: 422, probability: 0.02 },
    { kind: "fail-at-result", status: 500, probability: 0.01 },
  ];
  // Bursts: a run of consecutive requests all answered 500/502/503/504, at random points of the run.
  for (let i = 0; i < 12; i++) {
    rules.push({
      kind: "status",
      status: pick([500, 502, 503, 504]),
      skip: Math.floor(random() * 6_000),
      times: 5 + Math.floor(random() * 25),
    });
  }
  return rules;
}

const ENDPOINTS = [
  ["fal-ai/flux-pro/kontext/text-to-image", (p: string, seed: number) => ({ prompt: p, seed })],
  ["fal-ai/flux-pro/kontext/max", (p: string, seed: number) => ({ prompt: p, seed, image_url: "https://example.com/in.png" })],
  [
    "fal-ai/flux-pro/kontext/max/multi",
    (p: string, seed: number) => ({ prompt: p, seed, image_urls: ["https://example.com/a.png", "https://example.com/b.png"] }),
  ],
] as const;

type Outcome = { kind: "completed" } | { kind: "typed"; name: string; status?: number } | { kind: "lost"; why: string };

async function main() {
  if (!values["no-prebuild"]) prebuild();
  const client = await importPackage("client");
  const { startMockServer } = await importPackage("mocks", "server");
  const { KontextApiError, KontextNetworkError, KontextValidationError, KontextTimeoutError } = client;
  const rules = faultRules();
  const server = await startMockServer({
    seed: SEED,
    timeline: { queueSteps: 1, progressSteps: 2, stepMs: 100 },
    faults: rules,
    completedTtlMs: 60 * 60_000,
    maxRecordedRequests: 1_000_000,
  });
  const kontext = client.createKontextClient({
    credentials: "soak",
    baseUrl: server.url,
    syncBaseUrl: `${server.url}/sync`,
    // Realistic but bounded: 4 retries from 100 ms, at most 2 s per wait (Retry-After included), 5 s per call.
    retry: { maxRetries: 4, baseDelay: 100, maxDelay: 2_000 },
    timeout: 5_000,
  });

  // Peak memory, sampled.
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const sampler = setInterval(sample, 100);

  // Every job the mock ever accepted, by the logical job's tag (read often: cancelled queued jobs vanish).
  const accepted = new Map<string, Set<string>>();
  const runTag = randomUUID().slice(0, 8);
  const tagOf = (prompt: unknown) => (typeof prompt === "string" ? /#soak-\w+-(\d+)$/.exec(prompt)?.[1] : undefined);
  const scan = () => {
    for (const job of server.mock.jobs.values()) {
      const tag = tagOf(job.input.prompt);
      if (tag === undefined) continue;
      const ids = accepted.get(tag) ?? new Set<string>();
      ids.add(job.requestId);
      accepted.set(tag, ids);
    }
  };
  const scanner = setInterval(scan, 25);

  const outcomes: Outcome[] = new Array(JOBS);
  const durations: number[] = [];
  const started = performance.now();
  let next = 0;
  let stopped = false;

  async function one(i: number): Promise<Outcome> {
    const [endpoint, make] = ENDPOINTS[i % ENDPOINTS.length]!;
    const input = make(`a lighthouse in a storm, job #soak-${runTag}-${i}`, i);
    const mode = i % 4 === 3 ? "poll" : "stream";
    if (SELF_CHECK && i === 0) {
      // The planted submit goes through the same faults, so it is repeated until the mock accepts it.
      for (let attempt = 0; attempt < 20; attempt++) {
        const planted = await fetch(`${server.url}/${endpoint}`, {
          method: "POST",
          headers: { authorization: "Key soak", "content-type": "application/json" },
          body: JSON.stringify(input),
        }).catch(() => undefined);
        if (planted?.status === 200 && (await planted.json().catch(() => undefined))?.request_id) break;
      }
      void Promise.reject(new Error("self-check: a planted unhandled rejection"));
    }
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "lost", why: `still pending after ${JOB_DEADLINE_MS} ms` }), JOB_DEADLINE_MS);
    });
    const work = kontext.subscribe(endpoint, input, { mode, timeout: JOB_TIMEOUT_MS }).then(
      (result: { data?: { images?: unknown[] } }): Outcome =>
        Array.isArray(result?.data?.images) ? { kind: "completed" } : { kind: "lost", why: "resolved without images" },
      (error: unknown): Outcome => {
        if (error instanceof KontextNetworkError) return { kind: "typed", name: "KontextNetworkError" };
        if (error instanceof KontextApiError)
          return { kind: "typed", name: "KontextApiError", status: (error as { status: number }).status };
        if (error instanceof KontextValidationError) return { kind: "typed", name: "KontextValidationError", status: 422 };
        if (error instanceof KontextTimeoutError) return { kind: "typed", name: "KontextTimeoutError" };
        // Name the client function it came out of (submit, getStatus, ...), so the report says where to look.
        const stack = String((error as Error)?.stack ?? "");
        const where = [...stack.matchAll(/at (?:async )?(\w+) \(.*packages\/client/g)].map((m) => m[1]).slice(0, 3);
        return {
          kind: "lost",
          why: `untyped rejection: ${String(error).slice(0, 120)}${where.length ? ` (in ${where.join(" ← ")})` : ""}`,
        };
      },
    );
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    durations.push(performance.now() - t0);
    return outcome;
  }

  async function worker() {
    while (!stopped && next < JOBS) {
      const i = next++;
      outcomes[i] = await one(i);
    }
  }

  const hardStop = new Promise<void>((resolve) => setTimeout(resolve, HARD_LIMIT_MS).unref());
  await Promise.race([
    Promise.all(Array.from({ length: CONCURRENCY }, worker)),
    hardStop.then(() => {
      stopped = true;
    }),
  ]);
  const seconds = (performance.now() - started) / 1000;
  // Give late rejections a moment to surface as unhandled, then take the final readings.
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(sampler);
  clearInterval(scanner);
  scan();
  sample();

  for (let i = 0; i < JOBS; i++)
    outcomes[i] ??= { kind: "lost", why: stopped ? "not finished when the soak's time ran out" : "never ran" };
  const completed = outcomes.filter((o) => o.kind === "completed").length;
  const typed = outcomes.filter((o): o is Extract<Outcome, { kind: "typed" }> => o.kind === "typed");
  const lost = outcomes.filter((o): o is Extract<Outcome, { kind: "lost" }> => o.kind === "lost");
  const lostBy: Record<string, number> = {};
  for (const l of lost) lostBy[l.why] = (lostBy[l.why] ?? 0) + 1;
  const twice = [...accepted.values()].filter((ids) => ids.size > 1).length;
  const byError: Record<string, number> = {};
  for (const t of typed) {
    const key = t.status ? `${t.name} ${t.status}` : t.name;
    byError[key] = (byError[key] ?? 0) + 1;
  }
  const requests = server.mock.requests.filter((r: { operation?: string }) => r.operation && r.operation !== "files");
  const byOperation: Record<string, number> = {};
  for (const r of requests) byOperation[r.operation] = (byOperation[r.operation] ?? 0) + 1;
  await server.close();

  const figures = {
    seed: SEED,
    jobs: JOBS,
    concurrency: CONCURRENCY,
    seconds: round(seconds, 1),
    completed,
    failedTyped: typed.length,
    failedByError: byError,
    lost: lost.length,
    lostBy,
    submittedTwice: twice,
    unhandledRejections: unhandled,
    uncaughtExceptions: uncaught,
    acceptedSubmits: [...accepted.values()].reduce((n, ids) => n + ids.size, 0),
    requests: requests.length,
    requestsByOperation: byOperation,
    jobSecondsP50: round(percentile(durations, 50) / 1000, 2),
    jobSecondsP99: round(percentile(durations, 99) / 1000, 2),
    peakRss,
    peakHeapUsed: peakHeap,
    faults: rules,
    client: {
      retry: { maxRetries: 4, baseDelay: 100, maxDelay: 2_000 },
      timeout: 5_000,
      jobTimeout: JOB_TIMEOUT_MS,
      modes: "3/4 stream, 1/4 poll",
    },
  };

  const env = machine();
  console.log(`kontext-sdk soak — ${env.cpus} × ${env.cpuModel}, node ${env.node}, ${env.date}, seed ${SEED}`);
  table(`Soak: ${JOBS} jobs, concurrency ${CONCURRENCY}, random faults (${seconds.toFixed(1)} s)`, [
    ["figure", "value", "must be"],
    ["completed", completed, ""],
    ["failed with a typed error", typed.length, ""],
    ...Object.entries(byError)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [`  ${k}`, v, ""]),
    ["lost (no answer, or an untyped error)", lost.length, "0"],
    ["submitted twice", twice, "0"],
    ["unhandled rejections", unhandled + uncaught, "0"],
    ["HTTP requests", requests.length, ""],
    ["job time p50 / p99", `${figures.jobSecondsP50} s / ${figures.jobSecondsP99} s`, ""],
    ["peak rss / heapUsed", `${mb(peakRss)} / ${mb(peakHeap)}`, ""],
  ]);
  for (const [why, n] of Object.entries(lostBy)) console.log(`lost ×${n}: ${why}`);
  for (const s of unhandledSamples) console.log(`unhandled: ${s}`);
  if (SELF_CHECK) {
    const caught = twice >= 1 && unhandled >= 1;
    console.log(
      `\nself-check: planted duplicate ${twice >= 1 ? "detected" : "MISSED"}, planted unhandled rejection ${unhandled >= 1 ? "detected" : "MISSED"}`,
    );
    return caught;
  }
  writeResults({ soak: { ...figures, machine: env } });
  const ok = lost.length === 0 && twice === 0 && unhandled === 0 && uncaught === 0;
  console.log(ok ? "\nsoak: PASS (every must-be-0 figure is 0)" : "\nsoak: FAIL (a must-be-0 figure is not 0)");
  return ok;
}

const ok = await main().catch((e) => {
  console.error(e);
  return false;
});
process.exit(ok ? 0 : 1);

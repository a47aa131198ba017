/**
 * Section: batches. 1,000 jobs of about 2 s at concurrency 10 against the mock server (in a process of
 * its own), side by side:
 *  - @kontext-sdk/batch `runBatch` (journal fsync'd, auto mode: polling at this concurrency);
 *  - the naive script people write: `Promise.all` + `p-limit(10)` over `@fal-ai/client` `subscribe`
 *    (polling every 500 ms, its default), downloading each image to disk as the runner does.
 * Each runs in a child process of its own, so its peak memory (RSS, sampled every 50 ms) is its own.
 * Figures: HTTP requests per job (counted by a fetch wrapper: submit, status, stream, result; image
 * downloads not counted), wall time, peak RSS. Then the time to resume a 10,000-job journal in which
 * every job is finished (replay, plan, results.jsonl), which the naive loop cannot do at all: it starts over.
 */
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startMockProcess } from "../lib/mock-process.js";
import { importPackage, mb, root, round, table } from "../lib/util.js";

const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";
const JOBS = 1_000;
const CONCURRENCY = 10;
const RESUME_JOBS = 10_000;
/** About 2 s a job: 2 steps in the queue, 8 running, 200 ms each. */
const TIMELINE = { queueSteps: 2, progressSteps: 8, stepMs: 200 };

type Impl = "kontext" | "naive";
const labels: Record<Impl, string> = {
  kontext: "@kontext-sdk/batch runBatch (journal, auto mode)",
  naive: "Promise.all + p-limit over @fal-ai/client subscribe",
};

interface ChildFigures {
  impl: Impl;
  wallMs: number;
  peakRss: number;
  requests: number;
  completed: number;
  failed: number;
}

/** The built package when there is one, else its source (the bench runs under tsx). */
function importBatch() {
  const dist = join(root, "packages/batch/dist/index.js");
  return import(pathToFileURL(existsSync(dist) ? dist : join(root, "packages/batch/src/index.ts")).href);
}

export async function batchSection() {
  const figures: ChildFigures[] = [];
  for (const impl of ["kontext", "naive"] as Impl[]) {
    const mock = await startMockProcess({ timeline: TIMELINE });
    const out = await mkdtemp(join(tmpdir(), `kontext-bench-batch-${impl}-`));
    try {
      figures.push(await runChild(impl, mock.url, out));
    } finally {
      await mock.close();
      await rm(out, { recursive: true, force: true });
    }
  }
  table(`Batch: ${JOBS} jobs of ~2 s at concurrency ${CONCURRENCY} (mock server)`, [
    ["implementation", "requests/job", "wall time", "ideal", "peak RSS", "completed", "failed"],
    ...figures.map((f) => [
      labels[f.impl],
      round(f.requests / JOBS, 2),
      `${round(f.wallMs / 1000, 1)} s`,
      `${(JOBS / CONCURRENCY) * 2} s`,
      mb(f.peakRss),
      f.completed,
      f.failed,
    ]),
  ]);
  const resume = await resumeFigures();
  table(`Resume a ${RESUME_JOBS.toLocaleString("en")}-job journal (every job finished)`, [
    ["implementation", "time", "what happens"],
    [
      labels.kontext,
      `${resume.resumeMs} ms`,
      `replay ${resume.records.toLocaleString("en")} records (${resume.replayMs} ms), skip all, write results.jsonl`,
    ],
    [labels.naive, "n/a", `no journal: all ${RESUME_JOBS.toLocaleString("en")} jobs submitted (and billed) again`],
  ]);
  return {
    jobs: JOBS,
    concurrency: CONCURRENCY,
    jobSeconds: 2,
    runs: Object.fromEntries(
      figures.map((f) => [
        f.impl,
        {
          requestsPerJob: round(f.requests / JOBS, 2),
          wallSeconds: round(f.wallMs / 1000, 1),
          peakRssMb: round(f.peakRss / 2 ** 20, 1),
          completed: f.completed,
          failed: f.failed,
        },
      ]),
    ),
    resume10k: resume,
  };
}

/** Runs one implementation in a forked copy of this file and collects its figures. */
function runChild(impl: Impl, url: string, out: string): Promise<ChildFigures> {
  const child = fork(fileURLToPath(import.meta.url), ["--batch-child", impl, url, out], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m as ChildFigures));
    child.once("exit", (code) => reject(new Error(`batch bench child (${impl}) exited with ${code}`)));
  });
}

/** A 10,000-job batch folder whose journal says every job finished, then one timed resume. */
async function resumeFigures() {
  const { readJournal, resumeBatch } = await importBatch();
  const { createKontextClient } = await importPackage("client");
  const dir = await mkdtemp(join(tmpdir(), "kontext-bench-resume-"));
  try {
    const jobs = Array.from({ length: RESUME_JOBS }, (_, i) => ({
      id: `job-${i}`,
      endpoint: ENDPOINT,
      input: { prompt: `job ${i}`, seed: i },
    }));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "jobs.jsonl"), jobs.map((j) => `${JSON.stringify(j)}\n`).join(""));
    await writeFile(
      join(dir, "batch.json"),
      JSON.stringify({ version: 1, createdAt: new Date().toISOString(), jobs: RESUME_JOBS, problems: [] }),
    );
    const lines: string[] = [];
    jobs.forEach((job, i) => {
      const requestId = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      lines.push(JSON.stringify({ type: "intent", id: job.id, at: i }));
      lines.push(JSON.stringify({ type: "submitted", id: job.id, requestId, at: i }));
      const summary = {
        requestId,
        seed: i,
        files: [`${job.id}-0.jpg`],
        timings: { submittedAt: i, completedAt: i + 2000 },
        requests: 7,
      };
      lines.push(JSON.stringify({ type: "completed", id: job.id, at: i + 2000, summary }));
    });
    await writeFile(join(dir, "journal.jsonl"), `${lines.join("\n")}\n`);
    const t0 = performance.now();
    const replay = await readJournal(join(dir, "journal.jsonl"));
    const replayMs = round(performance.now() - t0, 1);
    // No request can be needed; a client pointed nowhere proves it.
    const client = createKontextClient({ credentials: "bench", baseUrl: "http://127.0.0.1:9" });
    const t1 = performance.now();
    const summary = await resumeBatch({ client, out: dir });
    const resumeMs = round(performance.now() - t1, 1);
    if (summary.skipped !== RESUME_JOBS || summary.submitted !== 0)
      throw new Error(`resume did not skip every job: ${JSON.stringify(summary)}`);
    return { jobs: RESUME_JOBS, records: replay.records as number, replayMs, resumeMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The child: one implementation, measured from inside. */
async function child(impl: Impl, url: string, out: string): Promise<void> {
  let requests = 0;
  const counting = ((input: RequestInfo | URL, init?: RequestInit) => {
    requests++;
    return fetch(input, init);
  }) as typeof fetch;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const jobs = Array.from({ length: JOBS }, (_, i) => ({
    id: `job-${i}`,
    endpoint: ENDPOINT,
    input: { prompt: `batch bench ${i}`, seed: i },
  }));
  const t0 = performance.now();
  let completed = 0;
  let failed = 0;
  if (impl === "kontext") {
    const { createKontextClient } = await importPackage("client");
    const { createRequestMeter, runBatch } = await importBatch();
    const meter = createRequestMeter(counting);
    const client = createKontextClient({ credentials: "bench", baseUrl: url, fetch: meter.fetch });
    const summary = await runBatch({ client, meter, jobs, out: join(out, "batch"), concurrency: CONCURRENCY });
    completed = summary.completed;
    failed = summary.failed;
  } else {
    const { createFalClient } = await import("@fal-ai/client");
    const { default: pLimit } = await import("p-limit");
    const fal = createFalClient({
      credentials: "bench",
      fetch: counting,
      requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://queue.fal.run", url) }),
    });
    const limit = pLimit(CONCURRENCY);
    await Promise.all(
      jobs.map((job) =>
        limit(async () => {
          try {
            const result = await fal.subscribe(job.endpoint, { input: job.input, mode: "polling" });
            const image = (result.data as { images: { url: string }[] }).images[0]!;
            const bytes = new Uint8Array(await (await fetch(image.url)).arrayBuffer());
            await writeFile(join(out, `${job.id}-0.jpg`), bytes);
            completed++;
          } catch {
            failed++;
          }
        }),
      ),
    );
  }
  const wallMs = performance.now() - t0;
  clearInterval(sampler);
  const figures: ChildFigures = { impl, wallMs, peakRss, requests, completed, failed };
  process.send!(figures);
  process.exit(0);
}

if (process.argv[2] === "--batch-child") {
  const [, , , impl, url, out] = process.argv;
  await child(impl as Impl, url!, out!);
}

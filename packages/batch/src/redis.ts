/**
 * @kontext-sdk/batch/redis — the same jobs on BullMQ, for when one machine is not enough.
 * `enqueueBatch` puts the checked jobs on a queue (the job id is the BullMQ job id, so enqueueing the
 * same file twice adds nothing); `startBatchWorker` processes them on any number of machines;
 * `waitForBatch` gathers the outcomes into `results.jsonl`.
 *
 * The journal's rules hold with the BullMQ job's data as the journal: the intent is stored in the
 * job's data BEFORE the submit, the request id right after the answer. A worker killed mid-job loses
 * its lock; BullMQ's stalled check hands the job to another worker, whose attempt finds the request id
 * and follows it (never submitting again), or finds an intent without one and reports it `uncertain`.
 * BullMQ (and ioredis) are optional peer dependencies, loaded only here, with a dynamic import.
 */
import { resolve } from "node:path";
import type { KontextLiteClient, KontextResult } from "@kontext-sdk/client";
import type { EndpointId, KontextOutput } from "@kontext-sdk/schema";
import { sleep } from "@kontext-sdk/schema/protocol";
import { clientEngine, type FollowOptions, followOptions, type JobEngine } from "./engine.js";
import { BatchError, isConnectionRefused, isRateLimited, type JobError, toJobError } from "./errors.js";
import { type BatchJob, type InputProblem, type ReadJobsOptions, readJobs } from "./input.js";
import { completedLine, failedLine, problemLine, summarizeJob, tallyFailures } from "./job-summary.js";
import type { JobSummary } from "./journal.js";
import type { RequestMeter } from "./meter.js";
import { type ResultLine, saveImages, writeResults } from "./output.js";
import { isRefollowable, uncertainFailure, unfinishedStep } from "./resume.js";

export const DEFAULT_QUEUE = "kontext-batch";

export interface RedisOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  redis: string;
  /** The BullMQ queue name. Default `kontext-batch`; one queue per batch keeps their results apart. */
  queue?: string;
}

/** What a BullMQ job carries: the batch job, then the journal fields its attempts write. */
export interface QueuedJobData {
  id: string;
  endpoint: EndpointId;
  input: Record<string, unknown>;
  /** Set just before the submit is sent. */
  intentAt?: number;
  /** Set as soon as the submit answered: every later attempt follows it. */
  requestId?: string;
  submittedAt?: number;
}

/** A finished job's return value: the summary, plus whether an attempt took over a known request id. */
export type QueuedJobResult = JobSummary & { followed?: boolean };

type BullMQ = typeof import("bullmq");
/** The fields of a BullMQ job that the results are read from. */
interface BullJob {
  data: QueuedJobData;
  returnvalue: QueuedJobResult | null;
  failedReason: string;
  finishedOn?: number;
  attemptsMade: number;
  opts: { attempts?: number };
}

async function loadBullMQ(): Promise<BullMQ> {
  try {
    return await import("bullmq");
  } catch (error) {
    throw new BatchError(
      `--redis needs the optional dependencies bullmq and ioredis: npm i bullmq ioredis (${(error as Error).message})`,
    );
  }
}

const connectionOf = (o: RedisOptions) => ({ url: o.redis, maxRetriesPerRequest: null });

export interface EnqueueOptions extends RedisOptions, ReadJobsOptions {
  jobs: string | Iterable<unknown>;
  strict?: boolean;
  /** Attempts per job for retryable failures (a follow that broke, a download). Default 5. */
  attempts?: number;
}

export interface EnqueueResult {
  queue: string;
  /** Jobs handed to the queue (a job whose id is already there is left as it is). */
  jobs: BatchJob[];
  problems: InputProblem[];
}

/** Checks every job, then adds them to the queue in one go. */
export async function enqueueBatch(options: EnqueueOptions): Promise<EnqueueResult> {
  const read = await readJobs(options.jobs, options);
  if (options.strict && read.problems.length > 0) {
    throw new BatchError(`${read.problems.length} invalid line(s), nothing enqueued: ${read.problems[0]?.message}`);
  }
  const { Queue } = await loadBullMQ();
  const name = options.queue ?? DEFAULT_QUEUE;
  const queue = new Queue<QueuedJobData>(name, { connection: connectionOf(options) });
  try {
    const opts = {
      attempts: options.attempts ?? 5,
      backoff: { type: "exponential", delay: 200 },
      removeOnComplete: false,
      removeOnFail: false,
    };
    for (let i = 0; i < read.jobs.length; i += 500) {
      const chunk = read.jobs.slice(i, i + 500);
      await queue.addBulk(
        chunk.map((job) => ({
          name: "kontext",
          data: { id: job.id, endpoint: job.endpoint, input: job.input as Record<string, unknown> },
          opts: { ...opts, jobId: job.id },
        })),
      );
    }
  } finally {
    await queue.close();
  }
  return { queue: name, jobs: read.jobs, problems: read.problems };
}

export interface WorkerOptions extends RedisOptions {
  client: KontextLiteClient;
  /** Where images go (a folder every worker can write, or one per machine). */
  out: string;
  /** Jobs this worker runs at once. Default 2. */
  concurrency?: number;
  resubmitUncertain?: boolean;
  meter?: RequestMeter;
  fetch?: typeof fetch;
  mode?: "stream" | "poll";
  pollInterval?: number;
  /** How long a job's lock lasts without renewal: a dead worker's jobs move on after this. Default 30 s. */
  lockDuration?: number;
  /** How often stalled jobs are looked for. Default 30 s (BullMQ's). */
  stalledInterval?: number;
  /** Called as jobs end, for progress lines. */
  onJob?: (event: { id: string; status: "completed" | "failed"; followed?: boolean; error?: JobError }) => void;
}

export interface BatchWorker {
  /** Stops taking jobs and waits for the ones in hand. */
  close(): Promise<void>;
}

/** Carries a typed failure through BullMQ's `failedReason` (a string). */
const failure = (error: JobError) => JSON.stringify(error);

/** Starts a worker: it processes jobs until closed. */
export async function startBatchWorker(options: WorkerOptions): Promise<BatchWorker> {
  const bullmq = await loadBullMQ();
  const name = options.queue ?? DEFAULT_QUEUE;
  const out = resolve(options.out);
  const engine = clientEngine(options.client);
  const follow = followOptions(options.mode ?? "poll", options.pollInterval);
  const queue = new bullmq.Queue<QueuedJobData>(name, { connection: connectionOf(options) });
  const { mkdir } = await import("node:fs/promises");
  await mkdir(out, { recursive: true });

  const context: WorkerContext = { bullmq, queue, engine, follow, out, options };
  const worker = new bullmq.Worker<QueuedJobData, QueuedJobResult>(name, (job) => processJob(job, context), {
    connection: connectionOf(options),
    concurrency: options.concurrency ?? 2,
    lockDuration: options.lockDuration ?? 30_000,
    stalledInterval: options.stalledInterval ?? 30_000,
    // A job may outlive several dead workers; it is never resubmitted, so letting it stall again is safe.
    maxStalledCount: 10,
  });
  // Without a listener an 'error' event would crash the process; connection trouble is retried by ioredis.
  worker.on("error", () => {});
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

/** What every job of one worker reads, set up once when the worker starts. */
interface WorkerContext {
  bullmq: BullMQ;
  /** The worker's own handle on its queue, to pause it all when fal rate-limits a submit. */
  queue: import("bullmq").Queue<QueuedJobData>;
  engine: JobEngine;
  follow: FollowOptions;
  /** The images' folder, resolved. */
  out: string;
  options: WorkerOptions;
}

type WorkerJob = import("bullmq").Job<QueuedJobData, QueuedJobResult>;

/** Reports a job failed for good and makes the error that tells BullMQ not to try it again. */
type Fail = (error: JobError) => Error;

/** One attempt at a queued job: submit it, or follow the request id an earlier attempt recorded; then save its images. */
async function processJob(job: WorkerJob, context: WorkerContext): Promise<QueuedJobResult> {
  const { data } = job;
  const { options } = context;
  const fail: Fail = (error) => {
    options.onJob?.({ id: data.id, status: "failed", error });
    return new context.bullmq.UnrecoverableError(failure(error));
  };
  // The job's data is its journal: an earlier attempt's request id is followed, its bare intent is uncertain.
  const step = unfinishedStep(data, Boolean(options.resubmitUncertain));
  if (step.step === "uncertain") throw fail(uncertainFailure("a worker"));
  const followed = step.step === "follow";
  const { requestId, result } = followed
    ? await followRecorded(step.requestId, data, context, fail)
    : await submitAndFollow(job, context, fail);
  const output = result.data as KontextOutput;
  // A failed download is retried by BullMQ (attempts): the next attempt follows, it does not submit.
  const files = await saveImages(context.out, data.id, output, options.fetch ?? globalThis.fetch);
  const summary: QueuedJobResult = {
    ...summarizeJob({ requestId, output, files, submittedAt: data.submittedAt, requests: options.meter?.count(requestId) }),
    ...(followed ? { followed } : {}),
  };
  options.meter?.forget(requestId);
  options.onJob?.({ id: data.id, status: "completed", ...(followed ? { followed } : {}) });
  return summary;
}

interface Finished {
  requestId: string;
  result: KontextResult<EndpointId>;
}

/** A later attempt: follows the request id in the job's data (never submits again). */
async function followRecorded(requestId: string, data: QueuedJobData, context: WorkerContext, fail: Fail): Promise<Finished> {
  try {
    return { requestId, result: await context.engine.follow(data.endpoint, requestId, context.follow).result() };
  } catch (error) {
    throw followFailure(error, fail);
  }
}

/**
 * A first attempt: the intent goes into the job's data before the submit, the request id right after
 * its answer, then the job is followed. A submit that provably queued nothing (rate limited, connection
 * refused) clears the intent and hands the job back to BullMQ.
 */
async function submitAndFollow(job: WorkerJob, context: WorkerContext, fail: Fail): Promise<Finished> {
  // The data as it was before this attempt wrote to it (`updateData` replaces `job.data`).
  const { data } = job;
  await job.updateData({ ...data, intentAt: Date.now() });
  const handle = context.engine.start(data.endpoint, data.input as never, context.follow);
  let requestId: string;
  try {
    requestId = await handle.requestId;
  } catch (error) {
    if (isRateLimited(error) || isConnectionRefused(error)) {
      // Nothing was queued: clear the intent and put the job back, pausing the whole queue a moment.
      await job.updateData({ ...data, intentAt: undefined });
      if (isRateLimited(error)) {
        await context.queue.rateLimit(1_000);
        throw context.bullmq.Worker.RateLimitError();
      }
      throw error;
    }
    throw fail(toJobError(error, "submit"));
  }
  await job.updateData({ ...data, intentAt: data.intentAt ?? Date.now(), requestId, submittedAt: Date.now() });
  try {
    return { requestId, result: await handle.result() };
  } catch (error) {
    throw followFailure(error, fail);
  }
}

/** Follow failures worth another attempt (the next one follows the same request id) are thrown as is. */
function followFailure(error: unknown, fail: Fail): unknown {
  const typed = toJobError(error, "follow");
  return isRefollowable(typed.reason) ? error : fail(typed);
}

export interface WaitOptions extends RedisOptions {
  /** The jobs to wait for (from `enqueueBatch`). */
  jobs: readonly BatchJob[];
  /** Where `results.jsonl` is written. */
  out: string;
  problems?: readonly InputProblem[];
  /** How often the queue is read, ms. Default 500. */
  intervalMs?: number;
  onProgress?: (counts: { total: number; completed: number; failed: number; active: number; waiting: number }) => void;
  signal?: AbortSignal;
}

export interface RedisBatchSummary {
  queue: string;
  total: number;
  completed: number;
  failed: number;
  byReason: Record<string, number>;
  uncertain: string[];
  /** Jobs an attempt took over by request id (their first worker died or their wait failed). */
  followed: number;
  images: number;
  stopped: boolean;
}

/** Waits until every job has finished (completed, or failed for good), then writes `results.jsonl`. */
export async function waitForBatch(options: WaitOptions): Promise<RedisBatchSummary> {
  const { Queue } = await loadBullMQ();
  const name = options.queue ?? DEFAULT_QUEUE;
  const queue = new Queue<QueuedJobData, QueuedJobResult>(name, { connection: connectionOf(options) });
  try {
    const ids = options.jobs.map((j) => j.id);
    let finished: Map<string, ResultLine> = new Map();
    let stopped = false;
    for (;;) {
      // The counts are cheap; the jobs themselves are read only once the counts say they may all be done
      // (a queue shared with other batches can make the counts run ahead, so the jobs have the last word).
      const counts = await queue.getJobCounts("completed", "failed", "active", "waiting", "delayed", "prioritized");
      const completed = counts.completed ?? 0;
      const failed = counts.failed ?? 0;
      options.onProgress?.({
        total: ids.length,
        completed: Math.min(completed, ids.length),
        failed: Math.min(failed, ids.length),
        active: counts.active ?? 0,
        waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      });
      const settled = options.signal?.aborted || completed + failed >= ids.length;
      if (settled) finished = await readFinished(queue, ids, finished);
      if (finished.size >= ids.length) break;
      if (options.signal?.aborted) {
        stopped = true;
        break;
      }
      // The core's abortable wait: an abort ends the wait at once, and the next round reads what finished.
      await sleep(options.intervalMs ?? 500, options.signal).catch(() => {});
    }
    const lines = options.jobs.flatMap((job) => {
      const line = finished.get(job.id);
      return line ? [{ ...line, endpoint: job.endpoint }] : [];
    });
    const problems = options.problems ?? [];
    await writeResults(resolve(options.out), [...lines, ...problems.map(problemLine)]);
    const { failed, byReason, uncertain } = tallyFailures(failures(lines), problems);
    return {
      queue: name,
      total: ids.length + problems.length,
      completed: lines.filter((l) => l.status === "completed").length,
      failed,
      byReason,
      uncertain,
      followed: lines.filter((l) => l.followed).length,
      images: lines.reduce((n, l) => n + (l.files?.length ?? 0), 0),
      stopped,
    };
  } finally {
    await queue.close();
  }
}

/** Reads the jobs not known to be finished yet, 200 at a time, keeping those that are. */
async function readFinished(
  queue: { getJob(id: string): Promise<BullJob | undefined> },
  ids: readonly string[],
  known: Map<string, ResultLine>,
): Promise<Map<string, ResultLine>> {
  const open = ids.filter((id) => !known.has(id));
  for (let i = 0; i < open.length; i += 200) {
    const jobs = await Promise.all(open.slice(i, i + 200).map((id) => queue.getJob(id)));
    for (const job of jobs) {
      if (!job) continue;
      // The line is named by id only: waitForBatch puts the caller's endpoint on it.
      const line = { id: job.data.id };
      if (job.finishedOn && job.returnvalue && !job.failedReason) {
        known.set(job.data.id, completedLine(line, job.returnvalue, job.returnvalue.followed));
      } else if (
        job.finishedOn &&
        job.failedReason &&
        (job.attemptsMade >= (job.opts.attempts ?? 1) || isTyped(job.failedReason))
      ) {
        known.set(job.data.id, failedLine(line, { requestId: job.data.requestId, error: parseFailure(job.failedReason) }));
      }
    }
  }
  return known;
}

/** The failed lines with their typed failures, for the tally. */
function* failures(lines: readonly ResultLine[]): Iterable<{ id: string; error: JobError }> {
  for (const line of lines) if (line.status === "failed" && line.error) yield { id: line.id, error: line.error };
}

const isTyped = (reason: string) => reason.startsWith("{");

function parseFailure(reason: string): JobError {
  try {
    const parsed = JSON.parse(reason) as JobError;
    if (parsed && typeof parsed.reason === "string") return parsed;
  } catch {}
  return { reason: "api_error", message: reason };
}

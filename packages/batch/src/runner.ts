/**
 * The batch runner: decides which jobs to submit, which to follow by request id, and which to leave
 * alone, and drives them through the client under the adaptive cap, writing every step to the journal
 * before acting on it. `runBatch` starts a batch from a file or an iterable; `resumeBatch` continues
 * one from its folder alone; both end with `results.jsonl` and a summary.
 */
import { join, resolve } from "node:path";
import type { EndpointId, KontextLiteClient, KontextResult } from "@kontext-sdk/client";
import type { KontextOutput } from "@kontext-sdk/schema";
import { clientEngine, type EngineJob, type FollowMode, followOptions, type JobEngine } from "./engine.js";
import { BatchError, type FailureReason, isRateLimited, type JobError, toJobError } from "./errors.js";
import { type BatchJob, type InputProblem, type ReadJobsOptions, readJobs } from "./input.js";
import { summarizeJob, tallyFailures } from "./job-summary.js";
import { applyRecord, type JobState, type JournalRecord, type JournalWriter, openJournal } from "./journal.js";
import { AdaptiveLimiter } from "./limiter.js";
import type { RequestMeter } from "./meter.js";
import { createBatchFolder, FILES, readBatchFolder, resultLines, saveImages, writeResults } from "./output.js";
import { resumeStep, uncertainFailure } from "./resume.js";
import { type WebhookInbox as Inbox, listenForWebhooks, WebhookInbox, type WebhookModeOptions } from "./webhooks.js";

/**
 * Up to this many jobs in flight, each is followed over a status stream (three requests a job: submit,
 * stream, result, and the end seen at once); above it, by adaptive polling, so thousands of jobs in
 * flight do not hold thousands of connections. The bench measured polling at 10 in flight at 7.6
 * requests and ~0.8 s of extra wall time per 2 s job, so 10 is still "a few".
 */
export const STREAM_UP_TO = 32;
/** The default cap: a new fal account runs 2 jobs at once; more would only wait in fal's queue. */
export const DEFAULT_CONCURRENCY = 2;

export interface BatchProgress {
  total: number;
  /** Completed, this run and earlier ones. */
  done: number;
  failed: number;
  /** Submitted and not finished. */
  running: number;
  /** Not started yet. */
  queued: number;
  uncertain: number;
  images: number;
  /** Jobs finished per second in this run. */
  throughput: number;
  /** Estimated milliseconds left, when there is a throughput to go by. */
  etaMs: number | undefined;
  elapsedMs: number;
  /** The adaptive cap right now. */
  limit: number;
  /** HTTP requests so far (with a meter). */
  requests: number | undefined;
}

export interface BatchSummary {
  out: string;
  total: number;
  completed: number;
  failed: number;
  /** Failures by reason (`invalid_input` lines included). */
  byReason: Partial<Record<FailureReason, number>>;
  /** Ids of the jobs whose submit outcome is unknown (not sent again unless asked). */
  uncertain: string[];
  /** Already finished before this run. */
  skipped: number;
  /** Followed by a request id recorded earlier (never resubmitted). */
  followed: number;
  /** Submits sent by this run. */
  submitted: number;
  images: number;
  /** HTTP requests of this run, and per job finished in it (with a meter). */
  requests: { total: number; perJob: number } | undefined;
  /** 429s seen, and the cap at the end. */
  rateLimited: number;
  limit: number;
  elapsedMs: number;
  /** True when the signal stopped the run early: what was in flight is resumable. */
  stopped: boolean;
  /** Webhook deliveries accepted and jobs the sweep followed instead (webhook mode). */
  webhooks?: { delivered: number; refused: number; swept: number };
}

export interface BatchRunOptions {
  /** A client from `@kontext-sdk/client`; build it with `fetch: meter.fetch` to count requests. */
  client: KontextLiteClient;
  /** The output folder (images, results.jsonl, the journal). */
  out: string;
  /** Jobs in flight at most. Default 2 (a new fal account's concurrency). */
  concurrency?: number;
  /** Send jobs whose submit outcome is unknown again (they may be billed twice). Default false. */
  resubmitUncertain?: boolean;
  /** `auto` (default): a status stream per job up to STREAM_UP_TO jobs in flight, polling above. */
  mode?: FollowMode | "auto";
  /** A fixed poll interval in ms instead of the client's adaptive one. */
  pollInterval?: number;
  /** Complete jobs from fal's webhook deliveries (see WebhookModeOptions). */
  webhook?: WebhookModeOptions;
  /**
   * Ask fal to refuse a submit with a 429 while this many of your jobs already wait in its queue
   * (`fal_max_queue_length`): a cap set above the account's concurrency is then brought down by the 429s
   * instead of piling jobs up at fal.
   */
  maxQueueLength?: number;
  /** Counts requests per job and feeds 429s to the limiter: the one the client's fetch goes through. */
  meter?: RequestMeter;
  /** Downloads images (never sent the key). Default: the global fetch. */
  fetch?: typeof fetch;
  onProgress?: (progress: BatchProgress) => void;
  /** Stops starting jobs and stops waiting; jobs in flight stay in the journal for `resume`. */
  signal?: AbortSignal;
  /** fsync each journal write (default true; tests and benchmarks of the rest may turn it off). */
  fsync?: boolean;
  /** How often one job may be sent back to the queue after a 429 before it fails. Default 20. */
  maxRateLimitRetries?: number;
  /** Called with the webhook inbox in webhook mode, for a server of your own (`inbox.deliver(request)`). */
  onWebhookInbox?: (inbox: Inbox) => void;
}

export interface RunBatchOptions extends BatchRunOptions, ReadJobsOptions {
  /** A JSONL or CSV file, or jobs in code (`{ id, endpoint, input }` each). */
  jobs: string | Iterable<unknown>;
  /** Refuse the whole batch (nothing sent) when any line is invalid. Default false: run the rest. */
  strict?: boolean;
}

/** Input lines refused under `strict`: nothing was sent. */
export class BatchInputError extends BatchError {
  override name = "BatchInputError";
  declare problems: InputProblem[];
  constructor(problems: InputProblem[]) {
    super(`${problems.length} invalid line${problems.length === 1 ? "" : "s"}: ${problems[0]?.message ?? ""}`);
    this.problems = problems;
  }
}

/** Starts a batch in a new folder: checks every job, writes the folder, then runs. */
export async function runBatch(options: RunBatchOptions): Promise<BatchSummary> {
  const out = resolve(options.out);
  const read = await readJobs(options.jobs, options);
  if (options.strict && read.problems.length > 0) throw new BatchInputError(read.problems);
  await createBatchFolder(out, read.jobs, {
    version: 1,
    createdAt: new Date().toISOString(),
    ...(typeof options.jobs === "string" ? { source: resolve(options.jobs) } : {}),
    jobs: read.jobs.length,
    problems: read.problems,
  });
  return resumeBatch({ ...options, out });
}

/**
 * Continues a batch from its folder: finished jobs are skipped, jobs with a request id are followed
 * (never submitted again), jobs whose submit outcome is unknown are reported `uncertain` and sent
 * again only with `resubmitUncertain`, and the rest run.
 */
export async function resumeBatch(options: BatchRunOptions): Promise<BatchSummary> {
  const out = resolve(options.out);
  const { manifest, jobs } = await readBatchFolder(out);
  const { writer, replay } = await openJournal(join(out, FILES.journal), { fsync: options.fsync !== false });
  const run = new BatchRun(options, out, jobs, replay.jobs, writer);
  try {
    await run.execute();
  } finally {
    await run.dispose();
    await writer.close();
  }
  await writeResults(out, resultLines(jobs, replay.jobs, manifest.problems));
  return run.summary(manifest.problems);
}

interface Task {
  job: BatchJob;
  /** Known when the job was submitted by an earlier run. */
  requestId?: string;
  submittedAt?: number;
  /** Times a 429 sent it back to the queue. */
  releases: number;
}

/** One execution of a batch: the queue of tasks, the limiter and the counters. */
class BatchRun {
  private readonly engine: JobEngine;
  private readonly limiter: AdaptiveLimiter;
  private readonly queue: Task[] = [];
  private readonly mode: FollowMode;
  private inbox: WebhookInbox | undefined;
  private closeListener: (() => Promise<void>) | undefined;
  private webhookUrl: string | undefined;
  private readonly startedAt = Date.now();
  private readonly requestsAtStart: number;
  private running = 0;
  private finishedNow = 0;
  private stopped = false;
  private readonly counts = { skipped: 0, followed: 0, submitted: 0 };
  /** Kept up to date record by record: a progress line must not cost a pass over 10,000 jobs. */
  private readonly tally = { done: 0, failed: 0, uncertain: 0, images: 0 };

  constructor(
    private readonly options: BatchRunOptions,
    private readonly out: string,
    private readonly jobs: readonly BatchJob[],
    private readonly states: Map<string, JobState>,
    private readonly writer: JournalWriter,
  ) {
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.limiter = new AdaptiveLimiter({ max: concurrency });
    this.mode = options.mode && options.mode !== "auto" ? options.mode : concurrency <= STREAM_UP_TO ? "stream" : "poll";
    this.engine = clientEngine(options.client, { maxQueueLength: options.maxQueueLength });
    this.requestsAtStart = options.meter?.total ?? 0;
    if (options.meter) options.meter.onRateLimited = (ms) => this.limiter.rateLimited(ms);
  }

  async execute(): Promise<void> {
    await this.plan();
    await this.startWebhooks();
    this.emit();
    const inFlight = new Set<Promise<void>>();
    const stop = this.options.signal ? onAbort(this.options.signal) : undefined;
    try {
      await this.runQueue(inFlight, stop?.aborted);
    } finally {
      stop?.dispose();
    }
    // Stopped: let submits already sent record their ids; waits end on the signal.
    this.stopped = Boolean(this.options.signal?.aborted);
    await Promise.all(inFlight);
  }

  /** Starts queued jobs as the limiter allows, until the queue and `inFlight` are empty or the run stops. */
  private async runQueue(inFlight: Set<Promise<void>>, aborted: Promise<undefined> | undefined): Promise<void> {
    while (!this.options.signal?.aborted) {
      if (this.queue.length === 0) {
        if (inFlight.size === 0) break;
        await Promise.race([...inFlight, ...(aborted ? [aborted] : [])]);
        continue;
      }
      const release = await (aborted ? Promise.race([this.limiter.acquire(), aborted]) : this.limiter.acquire());
      if (!release) break;
      const task = this.queue.shift();
      if (!task) {
        release();
        continue;
      }
      const promise: Promise<void> = this.runTask(task).finally(() => {
        release();
        inFlight.delete(promise);
      });
      inFlight.add(promise);
    }
  }

  /** Sorts every job into skip / follow / submit, recording uncertain ones as failed (unless resubmitting). */
  private async plan(): Promise<void> {
    for (const job of this.jobs) this.count(this.states.get(job.id), 1);
    const follow: Task[] = [];
    const submit: Task[] = [];
    const resubmitUncertain = Boolean(this.options.resubmitUncertain);
    for (const job of this.jobs) {
      const step = resumeStep(this.states.get(job.id) ?? { state: "pending" }, resubmitUncertain);
      switch (step.step) {
        case "skip":
          this.counts.skipped++;
          break;
        case "follow":
          follow.push({ job, requestId: step.requestId, submittedAt: step.submittedAt, releases: 0 });
          break;
        case "submit":
          submit.push({ job, releases: 0 });
          break;
        case "uncertain":
          await this.record(failedUncertain(job.id));
          break;
      }
    }
    this.counts.followed = follow.length;
    // Jobs already at fal first: they hold fal's slots whether we follow them or not.
    this.queue.push(...follow, ...submit);
  }

  private async startWebhooks(): Promise<void> {
    const webhook = this.options.webhook;
    if (!webhook) return;
    this.inbox = new WebhookInbox(this.engine, webhook);
    this.options.onWebhookInbox?.(this.inbox);
    this.webhookUrl = webhook.url;
    if (webhook.listen) {
      const listener = await listenForWebhooks(this.inbox, webhook.listen);
      this.closeListener = listener.close;
      this.webhookUrl ??= listener.url;
    }
    if (!this.webhookUrl) throw new BatchError("webhook mode needs webhook.url, or webhook.listen to start a listener");
  }

  async dispose(): Promise<void> {
    this.inbox?.close();
    await this.closeListener?.();
  }

  private async record(record: JournalRecord): Promise<void> {
    await this.writer.append(record);
    this.count(this.states.get(record.id), -1);
    applyRecord(this.states, record);
    this.count(this.states.get(record.id), 1);
    this.emit();
  }

  private count(state: JobState | undefined, sign: 1 | -1) {
    if (state?.state === "completed") {
      this.tally.done += sign;
      this.tally.images += sign * state.summary.files.length;
    } else if (state?.state === "failed") {
      this.tally.failed += sign;
      if (state.error.reason === "uncertain") this.tally.uncertain += sign;
    }
  }

  /**
   * One job, start to finish. Every step is in the journal before the next one starts: the intent
   * before the submit, the request id before the wait, the outcome last. A 429 at submit (nothing
   * queued) sends the job back to the front of the queue and halves the cap.
   */
  private async runTask(task: Task): Promise<void> {
    const { job } = task;
    const signal = this.options.signal;
    const follow = followOptions(this.mode, this.options.pollInterval);
    this.running++;
    try {
      let requestId = task.requestId;
      let submittedAt = task.submittedAt;
      let handle: EngineJob<EndpointId>;
      if (requestId) {
        handle = this.engine.follow(job.endpoint, requestId, { ...follow, ...(signal ? { signal } : {}) });
      } else {
        await this.record({ type: "intent", id: job.id, at: Date.now() });
        this.counts.submitted++;
        handle = this.engine.start(job.endpoint, job.input as never, {
          ...follow,
          ...(signal ? { signal } : {}),
          ...(this.webhookUrl ? { webhookUrl: this.webhookUrl } : {}),
        });
        try {
          requestId = await handle.requestId;
        } catch (error) {
          await this.submitFailed(task, error);
          return;
        }
        submittedAt = Date.now();
        await this.record({ type: "submitted", id: job.id, requestId, at: submittedAt });
      }
      await this.finish(task, handle, requestId, submittedAt);
    } finally {
      this.running--;
    }
  }

  private async submitFailed(task: Task, error: unknown): Promise<void> {
    const { job } = task;
    if (isRateLimited(error) && task.releases < (this.options.maxRateLimitRetries ?? 20)) {
      // The meter already told the limiter about this 429 (and the client's retried ones).
      if (!this.options.meter) this.limiter.rateLimited();
      await this.record({ type: "released", id: job.id, at: Date.now(), status: 429 });
      this.queue.unshift({ ...task, releases: task.releases + 1 });
      return;
    }
    await this.record({ type: "failed", id: job.id, at: Date.now(), error: toJobError(error, "submit") });
    this.finishedNow++;
  }

  private async finish(task: Task, handle: EngineJob<EndpointId>, requestId: string, submittedAt: number | undefined) {
    const { job } = task;
    const signal = this.options.signal;
    const requests = () => {
      const n = this.options.meter?.count(requestId);
      return n === undefined ? {} : { requests: n };
    };
    const fail = async (error: JobError) => {
      await this.record({ type: "failed", id: job.id, at: Date.now(), requestId, ...requests(), error });
      this.finishedNow++;
    };
    let result: KontextResult<EndpointId>;
    try {
      result = this.inbox ? await this.waitForDelivery(job.endpoint, requestId, signal) : await handle.result();
    } catch (error) {
      // Stopped: the job stays `submitted` in the journal and the next resume follows it.
      if (signal?.aborted) return;
      await fail(toJobError(error, "follow"));
      return;
    }
    const output = result.data as KontextOutput;
    let files: string[];
    try {
      files = await saveImages(this.out, job.id, output, this.options.fetch ?? globalThis.fetch, signal);
    } catch (error) {
      if (signal?.aborted) return;
      await fail(toJobError(error, "download"));
      return;
    }
    const summary = summarizeJob({ requestId, output, files, submittedAt, ...requests(), webhook: Boolean(this.inbox) });
    await this.record({ type: "completed", id: job.id, at: Date.now(), summary });
    this.options.meter?.forget(requestId);
    this.finishedNow++;
    this.limiter.succeeded();
  }

  /** The job's delivery, or the signal's reason once it aborts; the abort listener goes when either comes. */
  private async waitForDelivery(endpoint: EndpointId, requestId: string, signal: AbortSignal | undefined) {
    const delivery = this.inbox!.wait(endpoint, requestId);
    if (!signal) return delivery;
    const stop = onAbort(signal);
    try {
      return await Promise.race([delivery, stop.aborted.then(() => Promise.reject(signal.reason))]);
    } finally {
      stop.dispose();
    }
  }

  progress(): BatchProgress {
    const { done, failed, uncertain, images } = this.tally;
    const elapsedMs = Date.now() - this.startedAt;
    const throughput = elapsedMs > 0 ? (this.finishedNow * 1000) / elapsedMs : 0;
    const left = this.jobs.length - done - failed;
    return {
      total: this.jobs.length,
      done,
      failed,
      running: this.running,
      queued: this.queue.length,
      uncertain,
      images,
      throughput,
      etaMs: throughput > 0 ? Math.round((left / throughput) * 1000) : undefined,
      elapsedMs,
      limit: this.limiter.snapshot().limit,
      requests: this.options.meter ? this.options.meter.total - this.requestsAtStart : undefined,
    };
  }

  private emit() {
    if (this.options.onProgress) this.options.onProgress(this.progress());
  }

  summary(problems: readonly InputProblem[]): BatchSummary {
    const p = this.progress();
    const { failed, byReason, uncertain } = tallyFailures(this.failures(), problems);
    const snapshot = this.limiter.snapshot();
    const requests = p.requests;
    return {
      out: this.out,
      total: this.jobs.length + problems.length,
      completed: p.done,
      failed,
      byReason,
      uncertain,
      ...this.counts,
      images: p.images,
      requests:
        requests === undefined
          ? undefined
          : { total: requests, perJob: this.finishedNow ? round2(requests / this.finishedNow) : 0 },
      rateLimited: snapshot.rateLimited,
      limit: snapshot.limit,
      elapsedMs: p.elapsedMs,
      stopped: this.stopped,
      ...(this.inbox ? { webhooks: { ...this.inbox.counts } } : {}),
    };
  }

  /** The failed jobs, in input order. */
  private *failures(): Iterable<{ id: string; error: JobError }> {
    for (const job of this.jobs) {
      const state = this.states.get(job.id);
      if (state?.state === "failed") yield { id: job.id, error: state.error };
    }
  }
}

const failedUncertain = (id: string): JournalRecord => ({
  type: "failed",
  id,
  at: Date.now(),
  error: uncertainFailure("the process", "resume with resubmitUncertain to send it again"),
});

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * `aborted` resolves (to undefined) when the signal aborts and never rejects. `dispose` removes the
 * listener: the run's signal outlives every job, and a listener left per job piles up on it
 * (Node warns past ten, and each one holds its promise).
 */
function onAbort(signal: AbortSignal): { aborted: Promise<undefined>; dispose(): void } {
  if (signal.aborted) return { aborted: Promise.resolve(undefined), dispose: () => {} };
  let listener: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    listener = () => resolve(undefined);
    signal.addEventListener("abort", listener, { once: true });
  });
  return { aborted, dispose: () => signal.removeEventListener("abort", listener!) };
}

/**
 * `kontext batch run|resume|status|worker`: many jobs from a JSONL or CSV file through
 * `@kontext-sdk/batch`, with its crash-safe journal in the output folder. Like every command it runs
 * on the embedded mock when no key is set. Ctrl-C stops starting jobs and leaves the ones in flight in
 * the journal: `kontext batch resume <dir>` follows them by request id, never submitting them again.
 */
import { resolve } from "node:path";
import {
  BatchInputError,
  type BatchProgress,
  type BatchRunOptions,
  type BatchSummary,
  batchStatus,
  createProgressPrinter,
  createRequestMeter,
  DEFAULT_CONCURRENCY,
  type RequestMeter,
  resumeBatch,
  runBatch,
  type WebhookModeOptions,
} from "@kontext-sdk/batch";
import { type EndpointId, isEndpointId } from "@kontext-sdk/schema";
import type { Command } from "commander";
import { type Connection, type ConnectOptions, connect } from "../credentials.js";
import { EXIT, UsageError } from "../errors.js";
import { progressMode } from "../progress.js";
import { type CommandContext, shellWords } from "./context.js";

export interface BatchFlags {
  out?: string;
  concurrency?: string;
  mode?: string;
  pollInterval?: string;
  resubmitUncertain?: boolean;
  webhookUrl?: string;
  webhookListen?: string;
  webhookJwksUrl?: string;
  lateAfter?: string;
  redis?: string;
  queue?: string;
  json?: boolean;
}

export interface BatchRunFlags extends BatchFlags {
  endpoint?: string;
  format?: string;
  strict?: boolean;
}

type Runner = (command: Command, run: (ctx: CommandContext) => Promise<number>) => Promise<void>;

/** The default output folder of `batch run`. */
export const DEFAULT_BATCH_DIR = "kontext-batch";

/** Adds `kontext batch` and its subcommands to the program. */
export function registerBatchCommand(program: Command, runner: Runner): void {
  const batch = program
    .command("batch")
    .description("run many jobs from a JSONL or CSV file, with a crash-safe journal (resume never pays twice)");
  const common = (command: Command) =>
    command
      .option("-c, --concurrency <n>", `jobs in flight at most (default: ${DEFAULT_CONCURRENCY}, a new fal account's limit)`)
      .option("--mode <mode>", "how jobs are followed: stream or poll (default: stream up to 32 jobs in flight, poll above)")
      .option("--poll-interval <ms>", "a fixed poll interval instead of the adaptive one")
      .option("--resubmit-uncertain", "send again the jobs whose submit outcome is unknown (they may be billed twice)")
      .option("--webhook-url <url>", "have fal POST each outcome here instead of polling (a URL fal can reach)")
      .option("--webhook-listen <[host:]port>", "where to listen for the deliveries (default: the --webhook-url's port)")
      .option("--webhook-jwks-url <url>", "the keys deliveries are verified with (default: fal's JWKS)")
      .option("--late-after <seconds>", "poll a job whose delivery has not come after this long (default: 60)")
      .option("--json", "print only the summary, as JSON, on stdout");

  common(
    batch
      .command("run")
      .description("start a batch: check every line, then run the jobs into --out")
      .argument("<file>", "JSONL ({ id, endpoint, input } per line) or CSV (id, endpoint and input fields as columns)")
      .option("-o, --out <dir>", `the output folder: images, results.jsonl, the journal (default: ./${DEFAULT_BATCH_DIR})`)
      .option("--endpoint <id>", "the endpoint for lines that name none")
      .option("--format <format>", "jsonl or csv (default: from the file name)")
      .option("--strict", "send nothing if any line is invalid (default: report bad lines and run the rest)")
      .option("--redis <url>", "enqueue on BullMQ at this Redis instead of running here; run `kontext batch worker` anywhere")
      .option("--queue <name>", "the BullMQ queue name (default: kontext-batch)"),
  ).action(async (file: string, flags: BatchRunFlags, cmd: Command) => runner(cmd, (ctx) => batchRunCommand(ctx, file, flags)));

  common(
    batch
      .command("resume")
      .description("continue a batch: skip finished jobs, follow submitted ones by request id, run the rest")
      .argument("<dir>", "the batch's output folder"),
  ).action(async (dir: string, flags: BatchFlags, cmd: Command) => runner(cmd, (ctx) => batchResumeCommand(ctx, dir, flags)));

  batch
    .command("status")
    .description("where a batch stands, from its folder (sends nothing)")
    .argument("<dir>", "the batch's output folder")
    .option("--json", "print the status as JSON")
    .action(async (dir: string, flags: { json?: boolean }, cmd: Command) =>
      runner(cmd, (ctx) => batchStatusCommand(ctx, dir, flags)),
    );

  batch
    .command("worker")
    .description("process jobs enqueued with `batch run --redis`; start as many as you like, on any machine")
    .requiredOption("--redis <url>", "the Redis the jobs were enqueued on")
    .option("--queue <name>", "the BullMQ queue name (default: kontext-batch)")
    .option("-o, --out <dir>", `where this worker writes images (default: ./${DEFAULT_BATCH_DIR})`)
    .option("-c, --concurrency <n>", `jobs this worker runs at once (default: ${DEFAULT_CONCURRENCY})`)
    .option("--resubmit-uncertain", "send again jobs whose submit outcome is unknown")
    .action(async (flags: BatchFlags, cmd: Command) => runner(cmd, (ctx) => batchWorkerCommand(ctx, flags)));
}

export async function batchRunCommand(ctx: CommandContext, file: string, flags: BatchRunFlags): Promise<number> {
  const { io } = ctx;
  const endpoint = flags.endpoint;
  if (endpoint !== undefined && !isEndpointId(endpoint))
    throw new UsageError(`--endpoint must be a Kontext endpoint id (got ${endpoint})`);
  const format = flags.format;
  if (format !== undefined && format !== "jsonl" && format !== "csv")
    throw new UsageError(`--format must be jsonl or csv (got ${format})`);
  const jobs = resolve(io.cwd, file);
  const out = resolve(io.cwd, flags.out ?? DEFAULT_BATCH_DIR);
  if (flags.redis) return enqueueOnRedis(ctx, jobs, out, flags);
  return withBatchClient(ctx, flags, async (options) => {
    try {
      return await runBatch({
        ...options,
        out,
        jobs,
        ...(endpoint ? { endpoint: endpoint as EndpointId } : {}),
        ...(format ? { format: format as "jsonl" | "csv" } : {}),
        strict: Boolean(flags.strict),
      });
    } catch (error) {
      if (error instanceof BatchInputError)
        throw new UsageError(
          error.message,
          error.problems.map((p) => p.message),
        );
      throw error;
    }
  });
}

export async function batchResumeCommand(ctx: CommandContext, dir: string, flags: BatchFlags): Promise<number> {
  const out = resolve(ctx.io.cwd, dir);
  return withBatchClient(ctx, flags, (options) => resumeBatch({ ...options, out }));
}

export async function batchStatusCommand(ctx: CommandContext, dir: string, flags: { json?: boolean }): Promise<number> {
  const status = await batchStatus(resolve(ctx.io.cwd, dir));
  if (flags.json) {
    ctx.io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return EXIT.ok;
  }
  const reasons = Object.entries(status.byReason).map(([r, n]) => `${r} ${n}`);
  const lines = [
    `${status.out}: ${status.completed} of ${status.total} completed, ${status.failed} failed, ${status.images} images`,
    `  in flight (resume follows them): ${status.submitted}; not started: ${status.pending}; uncertain: ${status.uncertain}`,
    ...(reasons.length ? [`  failures: ${reasons.join(", ")}`] : []),
    ...(status.tornBytes ? [`  the journal ends in a torn line (a crash mid-write; dropped on resume)`] : []),
  ];
  ctx.io.stdout.write(`${lines.join("\n")}\n`);
  return EXIT.ok;
}

export async function batchWorkerCommand(ctx: CommandContext, flags: BatchFlags): Promise<number> {
  const { io } = ctx;
  // Every flag is checked before connect(): the embedded mock it starts would keep the process alive
  // after a usage error.
  const concurrency = wholeNumber(flags.concurrency, "--concurrency", DEFAULT_CONCURRENCY);
  const out = resolve(io.cwd, flags.out ?? DEFAULT_BATCH_DIR);
  const { startBatchWorker } = await import("@kontext-sdk/batch/redis");
  const meter = createRequestMeter();
  const connection = await connect(ctx.globals, io, batchConnectOptions(ctx, meter));
  try {
    let done = 0;
    let failed = 0;
    const worker = await startBatchWorker({
      redis: flags.redis!,
      ...(flags.queue ? { queue: flags.queue } : {}),
      client: connection.client,
      meter,
      out,
      concurrency,
      ...(flags.resubmitUncertain ? { resubmitUncertain: true } : {}),
      fetch: io.fetch,
      onJob: (event) => {
        if (event.status === "completed") done++;
        else failed++;
        const note = event.error
          ? ` (${event.error.reason}: ${event.error.message})`
          : event.followed
            ? " (taken over by request id)"
            : "";
        io.stderr.write(`${event.id} ${event.status}${note}\n`);
      },
    });
    io.stderr.write(`Worker on ${flags.queue ?? "kontext-batch"}, ${concurrency} at once; Ctrl-C to stop\n`);
    await new Promise<void>((resolveStop) => {
      const stop = io.onInterrupt(() => {
        stop();
        resolveStop();
      });
    });
    await worker.close();
    io.stderr.write(`Worker stopped: ${done} completed, ${failed} failed\n`);
    return EXIT.ok;
  } finally {
    await connection.close();
  }
}

/** `run --redis`: check and enqueue, then wait for the workers and write results.jsonl. */
async function enqueueOnRedis(ctx: CommandContext, jobs: string, out: string, flags: BatchRunFlags): Promise<number> {
  const { io } = ctx;
  const { enqueueBatch, waitForBatch } = await import("@kontext-sdk/batch/redis");
  const redis = { redis: flags.redis!, ...(flags.queue ? { queue: flags.queue } : {}) };
  const enqueued = await enqueueBatch({
    ...redis,
    jobs,
    ...(flags.endpoint && isEndpointId(flags.endpoint) ? { endpoint: flags.endpoint } : {}),
    ...(flags.format === "csv" || flags.format === "jsonl" ? { format: flags.format } : {}),
    strict: Boolean(flags.strict),
  });
  for (const p of enqueued.problems) io.stderr.write(`skipped: ${p.message}\n`);
  io.stderr.write(
    `Enqueued ${enqueued.jobs.length} jobs on ${enqueued.queue}; waiting for workers (kontext batch worker --redis ...)\n`,
  );
  const controller = new AbortController();
  const stop = io.onInterrupt(() => controller.abort());
  try {
    const summary = await waitForBatch({
      ...redis,
      jobs: enqueued.jobs,
      problems: enqueued.problems,
      out,
      signal: controller.signal,
      onProgress: (c) => {
        if (!flags.json)
          io.stderr.write(`${c.completed}/${c.total} done · ${c.active} running · ${c.waiting} waiting · ${c.failed} failed\n`);
      },
    });
    if (flags.json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else io.stdout.write(`${summary.completed} of ${summary.total} completed, ${summary.failed} failed; results in ${out}\n`);
    return summary.stopped ? EXIT.interrupted : summary.failed ? EXIT.failure : EXIT.ok;
  } finally {
    stop();
  }
}

/**
 * How a batch connects: the same target as every command (key, gateway, or the embedded mock, which
 * `connect` starts and announces), with the client's calls going through the meter so the summary can
 * say what each job cost.
 */
function batchConnectOptions(ctx: CommandContext, meter: RequestMeter): ConnectOptions {
  return {
    example: shellWords(ctx.argv),
    fetch: meter.fetch,
    ...(ctx.connected ? { connected: ctx.connected } : {}),
  };
}

async function withBatchClient(
  ctx: CommandContext,
  flags: BatchFlags,
  start: (options: Omit<BatchRunOptions, "out">) => Promise<BatchSummary>,
): Promise<number> {
  const { io } = ctx;
  const json = Boolean(flags.json);
  // Every flag is checked before connect(): the embedded mock it starts would keep the process alive
  // after a usage error, and a bad flag must not cost a connection.
  const concurrency = wholeNumber(flags.concurrency, "--concurrency", DEFAULT_CONCURRENCY);
  const follow = followFlags(flags);
  const webhook = webhookFlags(flags);
  const meter = createRequestMeter();
  const connection = await connect(ctx.globals, io, batchConnectOptions(ctx, meter));
  try {
    const mode = progressMode(io, json);
    const printer = createProgressPrinter(io.stderr, { mode: mode === "live" ? "tty" : mode === "plain" ? "plain" : "none" });
    const controller = new AbortController();
    const stop = io.onInterrupt(() => {
      if (!controller.signal.aborted) io.stderr.write("\nInterrupted: stopping; jobs in flight stay in the journal for resume\n");
      controller.abort();
    });
    try {
      const summary = await start({
        client: connection.client,
        meter,
        fetch: io.fetch,
        concurrency,
        ...follow,
        ...(flags.resubmitUncertain ? { resubmitUncertain: true } : {}),
        ...(webhook ? { webhook: withJwks(webhook, flags, connection) } : {}),
        signal: controller.signal,
        onProgress: (p: BatchProgress) => printer.update(p),
      });
      if (json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        printer.finish(summary);
        if (summary.stopped) io.stderr.write(`Resume with: kontext batch resume ${shellWords([summary.out])}\n`);
      }
      return summary.stopped ? EXIT.interrupted : summary.failed > 0 ? EXIT.failure : EXIT.ok;
    } finally {
      stop();
    }
  } finally {
    await connection.close();
  }
}

function followFlags(flags: BatchFlags): Pick<BatchRunOptions, "mode" | "pollInterval"> {
  const mode = flags.mode;
  if (mode !== undefined && mode !== "stream" && mode !== "poll")
    throw new UsageError(`--mode must be stream or poll (got ${mode})`);
  // Narrowed by the check above.
  const checked = mode as "stream" | "poll" | undefined;
  return {
    ...(checked ? { mode: checked } : {}),
    ...(flags.pollInterval !== undefined ? { pollInterval: wholeNumber(flags.pollInterval, "--poll-interval", 0, 10) } : {}),
  };
}

/**
 * `--webhook-url` / `--webhook-listen`: the URL fal posts to and the local listener behind it. Needs no
 * connection, so it is checked before one is opened; the verification keys are added by `withJwks`.
 */
function webhookFlags(flags: BatchFlags): WebhookModeOptions | undefined {
  if (!flags.webhookUrl && !flags.webhookListen) return undefined;
  let url: URL | undefined;
  if (flags.webhookUrl) {
    try {
      url = new URL(flags.webhookUrl);
    } catch {
      throw new UsageError(`--webhook-url must be an http(s) URL (got ${flags.webhookUrl})`);
    }
  }
  const listenText = flags.webhookListen ?? url?.port ?? "0";
  const match = /^(?:(.+):)?(\d+)$/.exec(listenText);
  if (!match) throw new UsageError(`--webhook-listen must be [host:]port (got ${listenText})`);
  return {
    ...(url ? { url: url.href } : {}),
    listen: { host: match[1] ?? "127.0.0.1", port: Number(match[2]), ...(url ? { path: url.pathname } : {}) },
    ...(flags.lateAfter !== undefined ? { lateAfterMs: wholeNumber(flags.lateAfter, "--late-after", 60, 1) * 1000 } : {}),
  };
}

/** The keys deliveries are verified with: `--webhook-jwks-url`, or the embedded mock's own. */
function withJwks(webhook: WebhookModeOptions, flags: BatchFlags, connection: Connection): WebhookModeOptions {
  // The embedded mock signs its deliveries with its own key and publishes it, as fal does.
  const jwksUrl = flags.webhookJwksUrl ?? (connection.embedded ? `${connection.baseUrl}/.well-known/jwks.json` : undefined);
  return { ...webhook, ...(jwksUrl ? { verify: { jwksUrl } } : {}) };
}

function wholeNumber(text: string | undefined, flag: string, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new UsageError(`${flag} must be a whole number of at least ${min} (got ${text})`);
  return value;
}

/**
 * `kontext generate|edit|multi`: build and validate the input, connect, run the job through the
 * client (queue by default, `--sync` for a direct run), show its progress, write the images.
 * The queued path follows the job through the client's job handle (`client.start`); Ctrl-C and
 * `--timeout` cancel the remote job through it before leaving (job-watch.ts).
 */
import { resolve } from "node:path";
import { type KontextResult, KontextTimeoutError } from "@kontext-sdk/client";
import type { EndpointId, EndpointKind, KontextOutput } from "@kontext-sdk/schema";
import { escapeControl } from "@kontext-sdk/schema/protocol";
import { type Connection, connect } from "../credentials.js";
import { EXIT, InterruptedError, isAbort, UsageError } from "../errors.js";
import { buildInput, type ImageFlags, numberish } from "../inputs.js";
import { checkOutDir, DEFAULT_OUT_DIR, printJson, printResult, resultDocument, saveImages } from "../output.js";
import { createProgress, type Progress, progressMode } from "../progress.js";
import { resolveLocalImages } from "../uploads.js";
import { type CommandContext, type OutputFlags, shellWords } from "./context.js";
import { watchJob } from "./job-watch.js";

export interface JobFlags extends ImageFlags, OutputFlags {
  sync?: boolean;
  /** Seconds the whole job may take; the client then cancels it and fails with a timeout. */
  timeout?: string;
}

export async function runImageCommand(
  ctx: CommandContext,
  kind: EndpointKind,
  promptWords: string[],
  flags: JobFlags,
): Promise<number> {
  const { io } = ctx;
  // Everything the command line says is checked before the job is submitted: found afterwards, a bad
  // --out or --timeout would cost a job (billed on fal) whose images are then lost.
  const timeoutMs = parseTimeout(flags.timeout);
  const outDir = resolve(io.cwd, flags.out ?? DEFAULT_OUT_DIR);
  await checkOutDir(outDir, "--out", io.cwd);
  const { endpoint, input } = await buildInput(kind, promptWords.join(" "), flags, io.cwd);

  const connection = await connect(ctx.globals, io, {
    example: shellWords(ctx.argv),
    purpose: "images",
    ...(ctx.connected ? { connected: ctx.connected } : {}),
  });
  try {
    // Large local images go to storage now (a short URL in the input), small ones inline.
    const placed = await resolveLocalImages(input, connection, io);
    return await runJob(ctx, connection, endpoint, placed, outDir, { ...flags, timeoutMs });
  } finally {
    await connection.close();
  }
}

/** Printed instead of a resume hint when the job runs on the embedded mock. */
export const EMBEDDED_JOB_NOTE =
  'this job lives only while this command runs (built-in mock). To keep jobs between commands, run "kontext mock" in another terminal and add --base-url http://127.0.0.1:4010 --key any.';

/** A follow-up command that names the gateway too, or it would ask fal about a gateway's job. */
export function followUp(
  command: "result" | "cancel" | "status",
  connection: Connection,
  endpoint: EndpointId,
  requestId: string,
): string {
  const base = connection.baseUrl && !connection.embedded ? ` --base-url ${connection.baseUrl}` : "";
  return `kontext ${command} ${endpoint} ${requestId}${base}`;
}

interface RunFlags extends JobFlags {
  timeoutMs: number | undefined;
}

async function runJob(
  ctx: CommandContext,
  connection: Connection,
  endpoint: EndpointId,
  input: Record<string, unknown>,
  outDir: string,
  flags: RunFlags,
): Promise<number> {
  if (flags.sync) return runSync(ctx, connection, endpoint, input, outDir, flags);
  const { io } = ctx;
  const json = Boolean(flags.json);
  const progress = createProgress(io, progressMode(io, json), "submitting");
  // The client's job handle submits, follows the job (stream, reopened when silent, polling when it
  // breaks), fetches the result once and cancels even before the id is known; the watch decides when.
  // `--timeout` is the handle's whole-job timeout: it cancels the job on the server when it runs out.
  const job = connection.client.start(endpoint, input as never, {
    logs: true,
    ...(flags.timeoutMs !== undefined ? { timeout: flags.timeoutMs } : {}),
  });
  const watch = watchJob(job, {
    io,
    progress,
    cancelCommand: (id) => followUp("cancel", connection, endpoint, id),
  });
  let requestId: string | undefined;
  let result: KontextResult<EndpointId>;
  try {
    const queued = await watch.unlessAbandoned(job.requestId);
    requestId = queued;
    announce(ctx, connection, endpoint, queued, progress, json);
    for await (const status of job.statuses()) progress.update(status);
    result = await job.result();
  } catch (error) {
    progress.stop();
    // The CLI sets no per-call timeout, so a timeout here is the job's own (`--timeout`).
    if (error instanceof KontextTimeoutError && flags.timeoutMs !== undefined) watch.timedOut(flags.timeoutMs);
    if (watch.stopped) return watch.report(requestId);
    watch.dispose();
    throw error;
  }
  // From here on the job is over: a Ctrl-C only stops the download, there is nothing to cancel.
  watch.finished();
  const finishedId = result.requestId;
  try {
    return await save(ctx, {
      endpoint,
      requestId: finishedId,
      result,
      outDir,
      json,
      progress,
      signal: watch.downloadSignal,
      input,
    });
  } catch (error) {
    progress.stop();
    if (watch.downloadSignal.aborted) {
      io.stderr.write(
        `Interrupted while saving the images; fetch them again with: ${followUp("result", connection, endpoint, finishedId)}\n`,
      );
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    watch.dispose();
  }
}

/** Prints the request id as soon as it is known, where a person reads it (stderr with --json). */
function announce(
  ctx: CommandContext,
  connection: Connection,
  endpoint: EndpointId,
  requestId: string,
  progress: Progress,
  json: boolean,
): void {
  const stream = json ? ctx.io.stderr : ctx.io.stdout;
  // The id is the server's choice: printed with any control characters escaped.
  progress.print(stream, `Request ${escapeControl(requestId)} queued on ${endpoint}`);
  // The embedded mock stops with this command, taking its jobs along: a resume hint could only fail.
  if (connection.embedded) progress.print(stream, `  ${EMBEDDED_JOB_NOTE}`);
  else progress.print(stream, `  resume with: ${followUp("result", connection, endpoint, requestId)}`);
}

/**
 * `--sync`: one request to the sync host, no queue. Ctrl-C abandons it (there is no queued job to
 * cancel); `--timeout` is the client's own limit on the call.
 */
async function runSync(
  ctx: CommandContext,
  connection: Connection,
  endpoint: EndpointId,
  input: Record<string, unknown>,
  outDir: string,
  flags: RunFlags,
): Promise<number> {
  const { io } = ctx;
  const json = Boolean(flags.json);
  const progress = createProgress(io, progressMode(io, json), "running");
  const controller = new AbortController();
  let saving = false;
  const unlisten = io.onInterrupt(() => controller.abort(new InterruptedError()));
  try {
    const result = await connection.client.run(endpoint, input as never, {
      signal: controller.signal,
      ...(flags.timeoutMs !== undefined ? { timeout: flags.timeoutMs } : {}),
    });
    // A gateway may leave out x-fal-request-id on a sync run; the files still need a unique name.
    const requestId = result.requestId || `sync-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    saving = true;
    return await save(ctx, { endpoint, requestId, result, outDir, json, progress, signal: controller.signal, input });
  } catch (error) {
    progress.stop();
    if (!controller.signal.aborted || !isAbort(error)) throw error;
    io.stderr.write(
      saving
        ? "Interrupted while saving the images; run the command again.\n"
        : "Interrupted: the synchronous request was abandoned (a sync run has no queued job to cancel).\n",
    );
    return EXIT.interrupted;
  } finally {
    unlisten();
  }
}

interface SaveArgs {
  endpoint: EndpointId;
  requestId: string;
  result: KontextResult<EndpointId>;
  outDir: string;
  json: boolean;
  progress: Progress;
  signal: AbortSignal;
  input: Record<string, unknown>;
}

/** Writes the images and prints the report (or the --json document). */
async function save(ctx: CommandContext, args: SaveArgs): Promise<number> {
  const { io } = ctx;
  args.progress.phase("downloading");
  const output = args.result.data as KontextOutput;
  const images = await saveImages(output.images, {
    requestId: args.requestId,
    outDir: args.outDir,
    fetch: io.fetch,
    redact: io.redact,
    signal: args.signal,
    ...(typeof args.input.output_format === "string" ? { format: args.input.output_format } : {}),
  });
  args.progress.stop(`saved ${images.length} image${images.length === 1 ? "" : "s"}`);
  if (args.json) printJson(io.stdout, resultDocument({ requestId: args.requestId, endpoint: args.endpoint, output, images }));
  else printResult(io.stdout, images, output, io.cwd);
  return EXIT.ok;
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = numberish(text);
  if (typeof seconds !== "number" || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new UsageError(`--timeout must be a number of seconds above 0 (got ${text})`);
  }
  return Math.round(seconds * 1000);
}

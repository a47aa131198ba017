/**
 * `kontext generate|edit|multi`: build and validate the input, connect, run the job through the
 * client (queue by default, `--sync` for a direct run), show its progress, write the images.
 * Ctrl-C cancels the remote job before leaving.
 */
import { resolve } from "node:path";
import type { KontextResult } from "@kontext-sdk/client";
import type { EndpointId, EndpointKind, KontextOutput } from "@kontext-sdk/schema";
import { type Connection, connect } from "../credentials.js";
import { describeError, EXIT, InterruptedError, isAbort, UsageError } from "../errors.js";
import { buildInput, type ImageFlags, numberish } from "../inputs.js";
import { DEFAULT_OUT_DIR, printJson, printResult, resultDocument, saveImages } from "../output.js";
import { createProgress, type Progress, progressMode } from "../progress.js";
import { type CommandContext, type OutputFlags, shellWords } from "./context.js";

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
  const { endpoint, input, warnings } = await buildInput(kind, promptWords.join(" "), flags, io.cwd);
  const timeoutMs = parseTimeout(flags.timeout);
  const outDir = resolve(io.cwd, flags.out ?? DEFAULT_OUT_DIR);
  for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);

  const connection = await connect(ctx.globals, io, { example: shellWords(ctx.argv) });
  try {
    return await runJob(ctx, connection, endpoint, input, outDir, { ...flags, timeoutMs });
  } finally {
    await connection.close();
  }
}

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

async function runJob(
  ctx: CommandContext,
  connection: Connection,
  endpoint: EndpointId,
  input: Record<string, unknown>,
  outDir: string,
  flags: JobFlags & { timeoutMs: number | undefined },
): Promise<number> {
  const { io } = ctx;
  const limit = flags.timeoutMs === undefined ? {} : { timeout: flags.timeoutMs };
  const json = Boolean(flags.json);
  const progress = createProgress(io, progressMode(io, json), flags.sync ? "running" : "submitting");
  const interrupt = interruption(ctx, connection, endpoint, progress, Boolean(flags.sync));
  // The request id goes where a person reads it; with --json, stdout must stay one document.
  const announce = (requestId: string) => {
    const stream = json ? io.stderr : io.stdout;
    progress.print(stream, `Request ${requestId} queued on ${endpoint}`);
    progress.print(stream, `  resume with: ${followUp("result", connection, endpoint, requestId)}`);
  };

  let result: KontextResult<EndpointId>;
  try {
    const typedInput = input as never;
    result = flags.sync
      ? await connection.client.run(endpoint, typedInput, { signal: interrupt.signal, ...limit })
      : await connection.client.subscribe(endpoint, typedInput, {
          logs: true,
          signal: interrupt.signal,
          ...limit,
          onEnqueue(requestId) {
            interrupt.enqueued(requestId);
            announce(requestId);
          },
          onQueueUpdate: (status) => progress.update(status),
        });
  } catch (error) {
    progress.stop();
    if (interrupt.interrupted && (isAbort(error) || interrupt.signal.aborted)) return interrupt.finish();
    interrupt.dispose();
    throw error;
  }

  // From here on the job is over: a Ctrl-C only stops the download, there is nothing to cancel.
  interrupt.finished();
  // A gateway may leave out x-fal-request-id on a sync run; the files still need a unique name.
  const requestId = result.requestId || `sync-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  try {
    progress.phase("downloading");
    const output = result.data as KontextOutput;
    const images = await saveImages(output.images, {
      requestId,
      outDir,
      fetch: io.fetch,
      signal: interrupt.signal,
      ...(typeof input.output_format === "string" ? { format: input.output_format } : {}),
    });
    progress.stop(`saved ${images.length} image${images.length === 1 ? "" : "s"}`);
    if (json) printJson(io.stdout, resultDocument({ requestId, endpoint, output, images }));
    else printResult(io.stdout, images, output, io.cwd);
    return EXIT.ok;
  } catch (error) {
    progress.stop();
    if (interrupt.interrupted) {
      const again = flags.sync
        ? "run the command again"
        : `fetch them again with: ${followUp("result", connection, endpoint, requestId)}`;
      io.stderr.write(`Interrupted while saving the images; ${again}\n`);
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}

/**
 * Ctrl-C while a job runs: abort the local wait and cancel the remote job, which would
 * otherwise run (and be billed) to the end. A Ctrl-C before the submit answered is held until
 * the request id is known, since there is nothing to cancel yet; a second Ctrl-C gives up at once.
 */
function interruption(ctx: CommandContext, connection: Connection, endpoint: EndpointId, progress: Progress, sync: boolean) {
  const { io } = ctx;
  const controller = new AbortController();
  let requestId: string | undefined;
  let interrupted = false;
  let done = false;
  let cancelling: Promise<string> | undefined;
  let giveUp: () => void = () => {};
  const gaveUp = new Promise<"gave-up">((resolve) => {
    giveUp = () => resolve("gave-up");
  });

  const stop = () => {
    if (!cancelling && requestId && !sync && !done) {
      const id = requestId;
      // Not tied to the aborted signal: this request must still go out.
      cancelling = connection.client.cancel(endpoint, id).then(
        (answer) => `Cancelled request ${id} (${answer.status}).`,
        (error: unknown) =>
          `Could not cancel request ${id} (${describeError(error)}); it may still run. Try: ${followUp("cancel", connection, endpoint, id)}`,
      );
    }
    if (!controller.signal.aborted) controller.abort(new InterruptedError());
  };

  const unlisten = io.onInterrupt(() => {
    if (interrupted) {
      giveUp();
      if (!controller.signal.aborted) controller.abort(new InterruptedError());
      return;
    }
    interrupted = true;
    if (done) {
      controller.abort(new InterruptedError());
      return;
    }
    progress.print(
      io.stderr,
      requestId || sync ? "Interrupted, cancelling..." : "Interrupted, waiting for the request id to cancel the job...",
    );
    if (requestId || sync) stop();
  });

  return {
    signal: controller.signal,
    get interrupted() {
      return interrupted;
    },
    enqueued(id: string) {
      requestId = id;
      if (interrupted) stop();
    },
    /** The job is over (its result arrived): later Ctrl-Cs have nothing to cancel. */
    finished() {
      done = true;
    },
    dispose: unlisten,
    /** Reports how the cancel went, waiting for it unless a second Ctrl-C said not to. */
    async finish(): Promise<number> {
      if (!cancelling && requestId && !sync) stop();
      const outcome = cancelling ? await Promise.race([cancelling, gaveUp]) : undefined;
      unlisten();
      if (sync) io.stderr.write("Interrupted: the synchronous request was abandoned (a sync run has no queued job to cancel).\n");
      else if (!requestId)
        io.stderr.write("Interrupted before the submit was answered; if it reached the server, the job may still run.\n");
      else if (outcome === "gave-up")
        io.stderr.write(
          `Interrupted; the job may still run. Cancel it with: ${followUp("cancel", connection, endpoint, requestId)}\n`,
        );
      else if (outcome) io.stderr.write(`${outcome}\n`);
      return EXIT.interrupted;
    },
  };
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = numberish(text);
  if (typeof seconds !== "number" || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new UsageError(`--timeout must be a number of seconds above 0 (got ${text})`);
  }
  return Math.round(seconds * 1000);
}

/**
 * `kontext status|result|cancel <endpoint> <request-id>`: the queue operations on a job that
 * already exists, for example one started by `kontext generate` in another terminal.
 */
import { resolve } from "node:path";
import { type EndpointId, endpoints, isEndpointId, type KontextOutput, type QueueStatus } from "@kontext-sdk/schema";
import { escapeControl } from "@kontext-sdk/schema/protocol";
import { type ConnectOptions, connect } from "../credentials.js";
import { EXIT, InterruptedError, isAbort, UsageError } from "../errors.js";
import { checkOutDir, DEFAULT_OUT_DIR, printJson, printResult, resultDocument, saveImages } from "../output.js";
import { createProgress, progressMode } from "../progress.js";
import { type CommandContext, type OutputFlags, shellWords } from "./context.js";
import { followUp } from "./generate.js";

export function checkEndpoint(value: string): EndpointId {
  if (isEndpointId(value)) return value;
  throw new UsageError(`<endpoint> must be one of: ${Object.keys(endpoints).join(", ")} (got ${value})`);
}

/** How status, result and cancel connect: about an existing id, so the embedded notice says why it is unknown. */
const lookup = (ctx: CommandContext): ConnectOptions => ({
  example: shellWords(ctx.argv),
  purpose: "lookup",
  ...(ctx.connected ? { connected: ctx.connected } : {}),
});

function checkRequestId(value: string): string {
  if (!value.trim()) throw new UsageError("<request-id> must not be empty");
  return value.trim();
}

export async function statusCommand(
  ctx: CommandContext,
  endpointArg: string,
  idArg: string,
  flags: { logs?: boolean; json?: boolean },
) {
  const endpoint = checkEndpoint(endpointArg);
  const requestId = checkRequestId(idArg);
  const connection = await connect(ctx.globals, ctx.io, lookup(ctx));
  try {
    const status = await connection.client.status(endpoint, requestId, { logs: Boolean(flags.logs) });
    if (flags.json) printJson(ctx.io.stdout, status);
    else ctx.io.stdout.write(describeStatus(status, Boolean(flags.logs)));
    return EXIT.ok;
  } finally {
    await connection.close();
  }
}

function describeStatus(status: QueueStatus, withLogs: boolean): string {
  const lines: string[] = [];
  if (status.status === "IN_QUEUE") lines.push(`IN_QUEUE (position ${status.queue_position})`);
  else if (status.status === "COMPLETED" && status.error) {
    lines.push(
      `COMPLETED with an error: ${escapeControl(status.error)}${status.error_type ? ` (${escapeControl(status.error_type)})` : ""}`,
    );
  } else lines.push(status.status);
  if (withLogs) {
    for (const entry of status.logs ?? []) lines.push(`  ${entry.level ? `${entry.level} ` : ""}${escapeControl(entry.message)}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function resultCommand(
  ctx: CommandContext,
  endpointArg: string,
  idArg: string,
  flags: OutputFlags & { wait?: boolean },
): Promise<number> {
  const { io } = ctx;
  const endpoint = checkEndpoint(endpointArg);
  const requestId = checkRequestId(idArg);
  const outDir = resolve(io.cwd, flags.out ?? DEFAULT_OUT_DIR);
  await checkOutDir(outDir, "--out", io.cwd);
  const connection = await connect(ctx.globals, io, lookup(ctx));
  const controller = new AbortController();
  // Ctrl-C here only stops waiting: this command did not start the job, so it does not cancel it.
  const unlisten = io.onInterrupt(() => controller.abort(new InterruptedError()));
  const progress = createProgress(io, progressMode(io, Boolean(flags.json)), "checking");
  // The client's job handle follows the job (stream, reopened when silent, polling when it breaks) and
  // ends with a typed error, asking nothing more, when the id is unknown or the key refused.
  const job = connection.client.job(endpoint, requestId, { logs: true, signal: controller.signal });
  try {
    if (flags.wait === false) {
      const first = await connection.client.status(endpoint, requestId, { signal: controller.signal });
      if (first.status !== "COMPLETED") {
        progress.stop();
        io.stderr.write(`${stillRunning(first, requestId)} Run the command again later, or without --no-wait to wait for it.\n`);
        return EXIT.notYet;
      }
    }
    // A job still running is waited for, which is what "resume" means after a lost terminal.
    for await (const status of job.statuses()) progress.update(status);
    progress.phase("downloading");
    const result = await job.result();
    const output = result.data as KontextOutput;
    const images = await saveImages(output.images, {
      requestId,
      outDir,
      fetch: io.fetch,
      redact: io.redact,
      signal: controller.signal,
    });
    progress.stop(`saved ${images.length} image${images.length === 1 ? "" : "s"}`);
    if (flags.json) printJson(io.stdout, resultDocument({ requestId, endpoint, output, images }));
    else printResult(io.stdout, images, output, io.cwd);
    return EXIT.ok;
  } catch (error) {
    progress.stop();
    if (controller.signal.aborted && isAbort(error)) {
      io.stderr.write(
        `Stopped waiting; the job was not cancelled. Resume with: ${followUp("result", connection, endpoint, requestId)}\n`,
      );
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    unlisten();
    await connection.close();
  }
}

/** `Request abc is still in the queue (position 2).` */
function stillRunning(status: QueueStatus, requestId: string): string {
  const where =
    status.status === "IN_QUEUE" ? `still in the queue (position ${status.queue_position})` : "still running (IN_PROGRESS)";
  return `Request ${escapeControl(requestId)} is ${where}; it has no result yet.`;
}

export async function cancelCommand(ctx: CommandContext, endpointArg: string, idArg: string, flags: { json?: boolean }) {
  const endpoint = checkEndpoint(endpointArg);
  const requestId = checkRequestId(idArg);
  const connection = await connect(ctx.globals, ctx.io, lookup(ctx));
  try {
    const answer = await connection.client.cancel(endpoint, requestId);
    if (flags.json) printJson(ctx.io.stdout, { requestId, endpoint, ...answer });
    else ctx.io.stdout.write(`${CANCEL_WORDS[answer.status] ?? answer.status}: ${requestId}\n`);
    // A request the server does not know is a failure a script should see.
    return answer.status === "NOT_FOUND" ? EXIT.failure : EXIT.ok;
  } finally {
    await connection.close();
  }
}

const CANCEL_WORDS: Record<string, string> = {
  OK: "Cancelled",
  CANCELLATION_REQUESTED: "Cancellation requested",
  ALREADY_COMPLETED: "Already completed, nothing to cancel",
  NOT_FOUND: "Not found",
};

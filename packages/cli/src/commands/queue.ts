/**
 * `kontext status|result|cancel <endpoint> <request-id>`: the queue operations on a job that
 * already exists, for example one started by `kontext generate` in another terminal.
 */
import { resolve } from "node:path";
import { type EndpointId, endpoints, isEndpointId, type KontextOutput, type QueueStatus } from "@kontext-sdk/schema";
import { connect } from "../credentials.js";
import { EXIT, InterruptedError, isAbort, UsageError } from "../errors.js";
import { DEFAULT_OUT_DIR, printJson, printResult, resultDocument, saveImages } from "../output.js";
import { createProgress, progressMode } from "../progress.js";
import { type CommandContext, type OutputFlags, shellWords } from "./context.js";
import { followUp } from "./generate.js";

export function checkEndpoint(value: string): EndpointId {
  if (isEndpointId(value)) return value;
  throw new UsageError(`<endpoint> must be one of: ${Object.keys(endpoints).join(", ")} (got ${value})`);
}

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
  const connection = await connect(ctx.globals, ctx.io, { example: shellWords(ctx.argv) });
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
    lines.push(`COMPLETED with an error: ${status.error}${status.error_type ? ` (${status.error_type})` : ""}`);
  } else lines.push(status.status);
  if (withLogs) for (const entry of status.logs ?? []) lines.push(`  ${entry.level ? `${entry.level} ` : ""}${entry.message}`);
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
  const connection = await connect(ctx.globals, io, { example: shellWords(ctx.argv) });
  const controller = new AbortController();
  // Ctrl-C here only stops waiting: this command did not start the job, so it does not cancel it.
  const unlisten = io.onInterrupt(() => controller.abort(new InterruptedError()));
  const progress = createProgress(io, progressMode(io, Boolean(flags.json)), "checking");
  try {
    const first = await connection.client.status(endpoint, requestId, { signal: controller.signal });
    progress.update(first);
    if (first.status !== "COMPLETED" && flags.wait !== false) {
      // A job still running is waited for, which is what "resume" means after a lost terminal.
      for await (const status of connection.client.streamStatus(endpoint, requestId, { logs: true, signal: controller.signal })) {
        progress.update(status);
        if (status.status === "COMPLETED") break;
      }
    }
    progress.phase("downloading");
    const result = await connection.client.result(endpoint, requestId, { signal: controller.signal });
    const output = result.data as KontextOutput;
    const images = await saveImages(output.images, { requestId, outDir, fetch: io.fetch, signal: controller.signal });
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

export async function cancelCommand(ctx: CommandContext, endpointArg: string, idArg: string, flags: { json?: boolean }) {
  const endpoint = checkEndpoint(endpointArg);
  const requestId = checkRequestId(idArg);
  const connection = await connect(ctx.globals, ctx.io, { example: shellWords(ctx.argv) });
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

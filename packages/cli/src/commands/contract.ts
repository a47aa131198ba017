/**
 * `kontext contract`: the contract kit's conversation runner from the command line. Without
 * `--base-url` it checks the embedded mock (which must pass cleanly); with one it checks that
 * server, a gateway or fal itself, within an image budget (`--max-images`) since each job costs.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { checkLabel, formatReport, runContract, toJUnit } from "@kontext-sdk/contract";
import { type EndpointId, endpoints, isEndpointId } from "@kontext-sdk/schema";
import { resolveKey, resolveTarget } from "../credentials.js";
import { EXIT, UsageError } from "../errors.js";
import { numberish } from "../inputs.js";
import { createProgress, progressMode } from "../progress.js";
import type { CommandContext } from "./context.js";

export interface ContractFlags {
  endpoints?: string[];
  maxImages?: string;
  junit?: string;
  allowForeignUrls?: boolean;
}

export async function contractCommand(ctx: CommandContext, flags: ContractFlags): Promise<number> {
  const { io, globals } = ctx;
  const chosen = parseEndpoints(flags.endpoints);
  const maxImages = parseMaxImages(flags.maxImages);
  // Only the flag picks a real server: a leftover KONTEXT_BASE_URL must not turn a check into a paid run.
  const target = resolveTarget(globals, { KONTEXT_AUTH_SCHEME: io.env.KONTEXT_AUTH_SCHEME });

  let server: { url: string; close(): Promise<void> } | undefined;
  if (!globals.baseUrl) {
    const { startMockServer } = await import("@kontext-sdk/mocks/server");
    // Short steps: the run waits for six jobs to complete, and the timeline's length proves nothing.
    const started = await startMockServer({ port: 0, host: "127.0.0.1", timeline: { stepMs: 25 } });
    io.stderr.write(`No --base-url: checking the built-in mock server at ${started.url}.\n`);
    server = started;
  }
  const controller = new AbortController();
  const unlisten = io.onInterrupt(() => controller.abort());
  const progress = createProgress(io, progressMode(io, false) === "live" ? "live" : "quiet", "checking");
  try {
    const credentials = server ? "kontext-embedded-mock" : resolveKey(globals, io.env);
    const report = await runContract({
      baseUrl: server?.url ?? target.baseUrl!,
      // The sync check costs an image, so it runs against a real server only when asked for.
      ...(server ? { syncBaseUrl: `${server.url}/sync` } : globals.syncBaseUrl ? { syncBaseUrl: target.syncBaseUrl! } : {}),
      authScheme: target.authScheme,
      ...(credentials ? { credentials } : {}),
      ...(chosen ? { endpoints: chosen } : {}),
      ...(maxImages !== undefined ? { maxImages } : {}),
      ...(flags.allowForeignUrls ? { allowForeignUrls: true } : {}),
      signal: controller.signal,
      onCheck: (check) => progress.phase(`checked ${checkLabel(check)}`),
    });
    progress.stop();
    io.stdout.write(`${formatReport(report, { color: Boolean(io.stdout.isTTY) && !io.env.NO_COLOR })}\n`);
    if (flags.junit) {
      const file = resolve(io.cwd, flags.junit);
      await writeFile(file, toJUnit(report));
      io.stderr.write(`JUnit report written to ${flags.junit}\n`);
    }
    return report.failed === 0 ? EXIT.ok : EXIT.failure;
  } catch (error) {
    progress.stop();
    if (controller.signal.aborted) {
      io.stderr.write("Interrupted; the contract run stopped.\n");
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    unlisten();
    await server?.close();
  }
}

function parseEndpoints(values: string[] | undefined): EndpointId[] | undefined {
  if (!values) return undefined;
  const ids = values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = ids.filter((id) => !isEndpointId(id));
  if (unknown.length)
    throw new UsageError(`--endpoints: unknown endpoint ${unknown.join(", ")}; known: ${Object.keys(endpoints).join(", ")}`);
  return ids as EndpointId[];
}

function parseMaxImages(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = numberish(text);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new UsageError(`--max-images must be a whole number, 0 or more (got ${text})`);
  }
  return value;
}

/**
 * `kontext contract`: the contract kit's conversation runner from the command line. Without
 * `--base-url` it checks the embedded mock (which must pass cleanly); with one it checks that
 * server, a gateway or fal itself, within an image budget (`--max-images`) since each job costs.
 * With `--arazzo` it runs the kit's Arazzo workflows with `redocly respect` instead.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { checkLabel, formatReport, KontextContractError, runContract, toJUnit } from "@kontext-sdk/contract";
import { type EndpointId, endpoints, isEndpointId } from "@kontext-sdk/schema";
import { EMBEDDED_KEY, resolveKey, resolveTarget } from "../credentials.js";
import { EXIT, UsageError } from "../errors.js";
import { numberish } from "../inputs.js";
import { createProgress, progressMode } from "../progress.js";
import type { CommandContext } from "./context.js";

export interface ContractFlags {
  endpoints?: string[];
  maxImages?: string;
  junit?: string;
  allowForeignUrls?: boolean;
  arazzo?: boolean;
}

export async function contractCommand(ctx: CommandContext, flags: ContractFlags): Promise<number> {
  if (flags.arazzo) return arazzoCommand(ctx, flags);
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
    const credentials = server ? EMBEDDED_KEY : resolveKey(globals, io.env);
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

// --- --arazzo: the same conversations as Arazzo workflows, run by `redocly respect` ------------------

/** Images the workflows request with the default `numImages` of 1: six jobs, one image each. */
const ARAZZO_IMAGES = 6;

/**
 * Runs the contract kit's Arazzo workflows (`@kontext-sdk/contract/dist/workflows.arazzo.yaml`) with
 * `redocly respect` against `--base-url`, or against the embedded mock. `@redocly/cli` is not a
 * dependency of this CLI (it is large, and most users never run it): it is found in the project
 * (`npm i -D @redocly/cli`) or next to this CLI, and its absence is a clear error with the one-liner.
 */
async function arazzoCommand(ctx: CommandContext, flags: ContractFlags): Promise<number> {
  const { io, globals } = ctx;
  refuseRunnerFlags(flags);
  const target = resolveTarget(globals, { KONTEXT_AUTH_SCHEME: io.env.KONTEXT_AUTH_SCHEME });
  const workflows = shippedWorkflows();
  const redocly = findRedocly(io.cwd);
  if (!redocly) {
    throw new UsageError(
      "--arazzo runs `redocly respect`, and @redocly/cli is not installed here. Install it (npm i -D @redocly/cli)," +
        ` or run the workflows yourself:\n  npx @redocly/cli respect ${workflows} --server queue=<base-url> --input authScheme=Key --input key=<key>`,
    );
  }
  let server: { url: string; close(): Promise<void> } | undefined;
  if (!globals.baseUrl) {
    const { startMockServer } = await import("@kontext-sdk/mocks/server");
    // Queued long enough that the cancel workflow reaches a job that is still queued.
    server = await startMockServer({ port: 0, host: "127.0.0.1", timeline: { queueSteps: 4, progressSteps: 2, stepMs: 100 } });
    io.stderr.write(`No --base-url: running the Arazzo workflows against the built-in mock server at ${server.url}.\n`);
  }
  try {
    const key = (server ? EMBEDDED_KEY : resolveKey(globals, io.env)) ?? "";
    const outcome = await runRespect(ctx, redocly, workflows, server?.url ?? target.baseUrl!, {
      authScheme: target.authScheme,
      key,
    });
    if (outcome.interrupted) {
      io.stderr.write("Interrupted; the Arazzo run stopped.\n");
      return EXIT.interrupted;
    }
    return outcome.code === 0 ? EXIT.ok : EXIT.failure;
  } finally {
    await server?.close();
  }
}

function refuseRunnerFlags(flags: ContractFlags): void {
  const runnerOnly = [
    flags.endpoints && "--endpoints",
    flags.junit && "--junit",
    flags.allowForeignUrls && "--allow-foreign-urls",
  ].filter(Boolean);
  if (runnerOnly.length) {
    throw new UsageError(
      `${runnerOnly.join(", ")} belong to the TypeScript runner, not to --arazzo (the workflows fix their endpoints)`,
    );
  }
  const maxImages = parseMaxImages(flags.maxImages);
  if (maxImages !== undefined && maxImages < ARAZZO_IMAGES) {
    throw new UsageError(
      `--max-images ${maxImages}: the Arazzo workflows request ${ARAZZO_IMAGES} images (one per job); pick workflows with redocly respect --workflow instead`,
    );
  }
}

/** The workflow file the contract package ships (built next to the bundled spec it points at). */
function shippedWorkflows(): string {
  const manifest = createRequire(import.meta.url).resolve("@kontext-sdk/contract/package.json");
  const file = join(dirname(manifest), "dist", "workflows.arazzo.yaml");
  if (!existsSync(file)) throw new KontextContractError(`${file} is missing: build @kontext-sdk/contract first`);
  return file;
}

/** The `redocly` bin of an installed @redocly/cli: the project's first, then the one beside this CLI. */
function findRedocly(cwd: string): string | undefined {
  for (const from of [join(cwd, "package.json"), import.meta.url]) {
    try {
      const manifest = createRequire(from).resolve("@redocly/cli/package.json");
      const bin = (JSON.parse(readFileSync(manifest, "utf8")) as { bin?: Record<string, string> }).bin?.redocly;
      if (bin) return join(dirname(manifest), bin);
    } catch {
      // not installed there; try the next place
    }
  }
  return undefined;
}

/**
 * `redocly respect <workflows> --server queue=<url>`, its output passed through. The inputs (with the
 * key) go in REDOCLY_CLI_RESPECT_INPUT as JSON, not on the command line, where other users of the
 * machine could read them; Respect masks the key in its own output (`format: password`).
 */
function runRespect(
  ctx: CommandContext,
  redocly: string,
  workflows: string,
  baseUrl: string,
  inputs: { authScheme: string; key: string },
): Promise<{ code: number | null; interrupted: boolean }> {
  const { io } = ctx;
  const env: NodeJS.ProcessEnv = { ...process.env, ...io.env, REDOCLY_CLI_RESPECT_INPUT: JSON.stringify(inputs) };
  if (!io.stdout.isTTY) env.NO_COLOR = "1";
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [redocly, "respect", workflows, "--server", `queue=${baseUrl}`], {
      cwd: io.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => io.stdout.write(chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => io.stderr.write(chunk));
    let interrupted = false;
    const unlisten = io.onInterrupt(() => {
      interrupted = true;
      child.kill("SIGINT");
    });
    child.once("error", (error) => {
      unlisten();
      fail(error);
    });
    child.once("close", (code) => {
      unlisten();
      done({ code, interrupted });
    });
  });
}

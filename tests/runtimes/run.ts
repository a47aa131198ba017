/**
 * `pnpm test:runtimes` (scripts/test-runtimes.ts): the built packages run a real job end to end on every
 * runtime users run them on, against the mock server started here on loopback.
 *
 * - Node 20 (this machine's), Node 20.19.0 (the packages' `engines` floor), Node 22 and 24, Bun and Deno run
 *   entry-server.mjs unbundled, importing the packages by name.
 * - workerd runs entry-worker.mjs (the client in a Worker) next to examples/proxy-worker (the proxy's fetch
 *   handler in a Worker), both bundled by esbuild.
 * - Chromium (playwright-core; CHROMIUM_PATH, else /usr/bin/chromium) runs entry-browser.mjs, bundled.
 * - msw 3 needs Node >= 22.12: the mocks' MSW test file runs on msw 3 under Node 22 (tests/msw3).
 *
 * Runtimes are fetched from the npm registry into a cache on first use (cache.ts). Every runtime reports
 * every feature: pass, fail, or "not applicable" with the reason; the run ends with a table and
 * `N passed, N failed`, and exits non-zero on any failure.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createKontextProxy, toNodeHandler } from "@kontext-sdk/client/proxy";
import { startMockServer } from "@kontext-sdk/mocks/server";
import { bundleForWeb } from "./bundle.js";
import { ensureRuntime, RUNTIMES, type RuntimeName } from "./cache.js";
import { FEATURES, STREAM_DROP_ENDPOINT, type StepConfig, type StepResult } from "./steps.mjs";
import { startWorkerd } from "./workerd.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..", "..");
const execFileAsync = promisify(execFile);

type Status = "pass" | "fail" | "n/a";
interface Cell {
  status: Status;
  detail: string;
}
interface Row {
  runtime: string;
  version: string;
  cells: Map<string, Cell>;
}
type StepLine = StepResult;

export type Environment = Omit<StepConfig, "runtime">;

const RUNTIME_TIMEOUT_MS = 120_000;

function log(runtime: string, text: string) {
  console.log(`[${runtime}] ${text}`);
}

function newRow(runtime: string, version = "?"): Row {
  return { runtime, version, cells: new Map() };
}

function record(row: Row, line: StepLine) {
  row.cells.set(line.feature, { status: line.status, detail: line.detail });
  log(row.runtime, `${line.feature}: ${line.status}${line.detail ? ` (${line.detail})` : ""}`);
}

/** Features a runtime never reported fail with the reason, never silently. */
function completeRow(row: Row, reason: string) {
  for (const feature of FEATURES) {
    if (!row.cells.has(feature)) record(row, { feature, status: "fail", detail: reason });
  }
}

/** Reads `KX {json}` lines from any text stream into the row. */
function lineReader(row: Row, onDone: () => void) {
  let buffer = "";
  return (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith("KX ")) record(row, JSON.parse(line.slice(3)) as StepLine);
      else if (line.startsWith("KX-DONE")) onDone();
      else if (line.startsWith("KX-ERROR")) log(row.runtime, line);
    }
  };
}

// ---------------------------------------------------------------------------------------------------
// The mock servers and the webhook sink
// ---------------------------------------------------------------------------------------------------

/** Stores each webhook delivery (raw body + headers) by request id, for the runtimes to verify. */
async function startSink(): Promise<{ url: string; server: Server }> {
  const deliveries = new Map<string, { headers: Record<string, string>; body: string }>();
  const cors = { "access-control-allow-origin": "*" };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (req.method === "POST" && path === "/hook") {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
        const requestId = headers["x-fal-webhook-request-id"] ?? "unsigned";
        deliveries.set(requestId, { headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, cors).end();
        return;
      }
      const match = /^\/deliveries\/([\w-]+)$/.exec(path);
      const delivery = match?.[1] ? deliveries.get(match[1]) : undefined;
      if (delivery) res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify(delivery));
      else res.writeHead(404, cors).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function startEnvironment() {
  // Jobs of about 1.6 s: short enough for the whole run to take a minute, long enough that a slow
  // runtime on a loaded machine opens its status stream while the job is still queued (the stream and
  // poll-fallback steps need to see it before COMPLETED).
  const fast = await startMockServer({ timeline: { queueSteps: 2, progressSteps: 2, stepMs: 400 } });
  // The poll-fallback step's endpoint: every status stream breaks after one event.
  fast.mock.addFault({ kind: "stream-drop", afterEvents: 1, operation: "stream", endpoint: STREAM_DROP_ENDPOINT });
  // Jobs stay queued for minutes, so a cancel surely meets an IN_QUEUE job.
  const slow = await startMockServer({ timeline: { queueSteps: 100, progressSteps: 1, stepMs: 3_000 } });
  const sink = await startSink();
  const environment: Environment = { mockUrl: fast.url, slowUrl: slow.url, sinkUrl: sink.url };
  return {
    environment,
    close: async () => {
      sink.server.closeAllConnections();
      await Promise.all([fast.close(), slow.close(), new Promise((resolve) => sink.server.close(resolve))]);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Node, Bun, Deno: entry-server.mjs as a child process
// ---------------------------------------------------------------------------------------------------

interface ServerRuntime {
  name: string;
  cache?: RuntimeName;
  /** Arguments before the entry file. */
  args: string[];
}

const SERVER_RUNTIMES: ServerRuntime[] = [
  { name: "node20", args: [] },
  { name: "node20.19", cache: "node20.19", args: [] },
  { name: "node22", cache: "node22", args: [] },
  { name: "node24", cache: "node24", args: [] },
  { name: "bun", cache: "bun", args: [] },
  // Deno: only the permissions the job needs (loopback, the config variable, node_modules).
  { name: "deno", cache: "deno", args: ["run", "--allow-net=127.0.0.1", "--allow-env=KONTEXT_RUNTIME_CONFIG", "--allow-read"] },
];

function withoutKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FAL_KEY: _key, FAL_KEY_ID: _id, FAL_KEY_SECRET: _secret, ...rest } = env;
  return rest;
}

async function versionOf(executable: string): Promise<string> {
  const { stdout } = await execFileAsync(executable, ["--version"]);
  return (stdout.split("\n")[0] ?? "")
    .replace(/^(deno|workerd) /, "")
    .replace(/ \(.*$/, "")
    .trim();
}

async function runServerRuntime(runtime: ServerRuntime, environment: Environment): Promise<Row> {
  const row = newRow(runtime.name);
  let executable: string;
  try {
    executable = runtime.cache ? await ensureRuntime(runtime.cache, (line) => log(runtime.name, line)) : process.execPath;
    row.version = await versionOf(executable);
  } catch (error) {
    completeRow(row, `could not get ${runtime.name}: ${(error as Error).message}`);
    return row;
  }
  log(runtime.name, `${executable} ${row.version}`);
  const config = { ...environment, runtime: `${runtime.name} ${row.version}` };
  let done = false;
  const child = spawn(executable, [...runtime.args, "entry-server.mjs"], {
    cwd: here,
    // No key in the environment: the no-key-defaults step checks what happens then.
    env: { ...withoutKeys(process.env), KONTEXT_RUNTIME_CONFIG: JSON.stringify(config), NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stdout.setEncoding("utf8").on(
    "data",
    lineReader(row, () => {
      done = true;
    }),
  );
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), RUNTIME_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearTimeout(timer);
  if (!done || code !== 0) {
    const tail = stderr.trim().split("\n").slice(-6).join(" | ");
    completeRow(row, `${runtime.name} exited with ${code ?? "a kill after the time limit"} before reporting: ${tail}`);
  }
  return row;
}

// ---------------------------------------------------------------------------------------------------
// workerd: the client in a Worker, the proxy in another
// ---------------------------------------------------------------------------------------------------

async function runWorkerd(environment: Environment): Promise<Row> {
  const row = newRow("workerd");
  let runtime: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  try {
    const [executable, clientSource, proxySource] = await Promise.all([
      ensureRuntime("workerd", (line) => log("workerd", line)),
      bundleForWeb(join(here, "entry-worker.mjs"), "worker"),
      bundleForWeb(join(repoRoot, "examples/proxy-worker/src/worker.ts"), "worker"),
    ]);
    row.version = await versionOf(executable);
    log("workerd", `${executable} ${row.version}`);
    runtime = await startWorkerd(executable, [
      {
        name: "client",
        source: clientSource,
        bindings: [
          { name: "CONFIG", text: JSON.stringify({ ...environment, runtime: `workerd ${row.version}` }) },
          { name: "PROXY", service: "proxy" },
        ],
      },
      {
        name: "proxy",
        source: proxySource,
        bindings: [
          { name: "FAL_KEY", text: "worker-secret-key" },
          { name: "KONTEXT_PROXY_TARGET", text: environment.mockUrl },
          { name: "PUBLIC_URL", text: "http://proxy.worker/api/fal/proxy" },
        ],
      },
    ]);
    let done = false;
    const read = lineReader(row, () => {
      done = true;
    });
    const response = await fetch(`${runtime.url}/run`, { signal: AbortSignal.timeout(RUNTIME_TIMEOUT_MS) });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
      read(decoder.decode(chunk, { stream: true }));
    read("\n");
    if (!done)
      completeRow(row, `the Worker stopped before reporting: ${runtime.output().trim().split("\n").slice(-6).join(" | ")}`);
  } catch (error) {
    const printed = runtime?.output().trim().split("\n").slice(-6).join(" | ") ?? "";
    completeRow(row, `workerd: ${(error as Error).message}${printed ? ` | ${printed}` : ""}`);
  } finally {
    await runtime?.close();
  }
  return row;
}

// ---------------------------------------------------------------------------------------------------
// Chromium: the client in a page, through a same-origin proxy served by Node
// ---------------------------------------------------------------------------------------------------

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function startPageServer(environment: Environment, bundle: string): Promise<{ origin: string; server: Server }> {
  const proxy = toNodeHandler(
    createKontextProxy({
      credentials: "page-proxy-key",
      basePath: "/api/fal/proxy",
      target: { queue: environment.mockUrl, sync: `${environment.mockUrl}/sync` },
    }),
  );
  const config = { ...environment, runtime: "chromium" };
  const page = `<!doctype html><meta charset="utf-8"><title>kontext runtimes</title>
<script>window.__KX_CONFIG = ${JSON.stringify(config)};</script>
<script type="module" src="/bundle.js"></script>`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    if (path.startsWith("/api/fal/proxy")) return void proxy(req, res);
    if (path === "/bundle.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    if (path === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(page);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function runChromium(environment: Environment): Promise<Row> {
  const row = newRow("chromium");
  const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    // CI installs Debian's chromium (.ci/run); a machine without it fails here rather than skipping.
    completeRow(row, `no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`);
    return row;
  }
  const { chromium } = await import("playwright-core");
  const bundle = await bundleForWeb(join(here, "entry-browser.mjs"), "browser");
  const pageServer = await startPageServer(environment, bundle);
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
  try {
    row.version = browser.version();
    log("chromium", `${executablePath} ${row.version}`);
    const page = await browser.newPage();
    let resolveDone: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const read = lineReader(row, resolveDone);
    page.on("console", (message) => read(`${message.text()}\n`));
    page.on("pageerror", (error) => log("chromium", `page error: ${error.message}`));
    await page.goto(pageServer.origin);
    const timedOut = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), RUNTIME_TIMEOUT_MS).unref());
    if ((await Promise.race([finished, timedOut])) === "timeout") completeRow(row, "the page did not finish in time");
  } catch (error) {
    completeRow(row, `chromium: ${(error as Error).message}`);
  } finally {
    await browser.close();
    pageServer.server.closeAllConnections();
    await new Promise((resolve) => pageServer.server.close(resolve));
  }
  return row;
}

// ---------------------------------------------------------------------------------------------------
// msw 3 on Node 22: the mocks' MSW test file, unchanged (tests/msw3)
// ---------------------------------------------------------------------------------------------------

interface Leg {
  name: string;
  status: Status;
  detail: string;
}

async function runMsw3(): Promise<Leg> {
  const name = "msw 3 (packages/mocks/test/msw.test.ts on Node 22)";
  try {
    const node22 = await ensureRuntime("node22", (line) => log("msw3", line));
    const vitest = join(repoRoot, "node_modules/vitest/vitest.mjs");
    const { stdout } = await execFileAsync(node22, [vitest, "run"], {
      cwd: join(repoRoot, "tests/msw3"),
      env: { ...process.env, NO_COLOR: "1", CI: "true" },
      maxBuffer: 16 * 1024 * 1024,
      timeout: RUNTIME_TIMEOUT_MS,
    });
    const tests = /Tests\s+(\d+) passed/.exec(stdout)?.[1] ?? "?";
    return { name, status: "pass", detail: `${tests} tests passed on msw 3 under Node ${RUNTIMES.node22.version}` };
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ""}${(error as { stderr?: string }).stderr ?? ""}`;
    const failed = output
      .split("\n")
      .filter((line) => /FAIL|×|Error/.test(line))
      .slice(0, 8)
      .join(" | ");
    return { name, status: "fail", detail: failed || (error as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------------

function printTable(rows: Row[], legs: Leg[]): { passed: number; failed: number } {
  const header = ["runtime", ...FEATURES];
  const body = rows.map((row) => [
    `${row.runtime} ${row.version}`,
    ...FEATURES.map((feature) => {
      const cell = row.cells.get(feature);
      return cell?.status === "n/a" ? "n/a¹" : (cell?.status ?? "fail");
    }),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]?.length ?? 0)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  console.log("");
  console.log(format(header));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const cells of body) console.log(format(cells));
  let passed = 0;
  let failed = 0;
  const notes: string[] = [];
  const failures: string[] = [];
  for (const row of rows) {
    for (const feature of FEATURES) {
      const cell = row.cells.get(feature) ?? { status: "fail", detail: "no result" };
      if (cell.status === "pass") passed++;
      else if (cell.status === "fail") {
        failed++;
        failures.push(`${row.runtime} × ${feature}: ${cell.detail}`);
      } else notes.push(`${row.runtime} × ${feature}: ${cell.detail}`);
    }
  }
  if (notes.length) {
    console.log("\n¹ not applicable:");
    for (const note of notes) console.log(`  ${note}`);
  }
  console.log("\nother legs:");
  for (const leg of legs) {
    console.log(`  ${leg.name}: ${leg.status} (${leg.detail})`);
    if (leg.status === "pass") passed++;
    else {
      failed++;
      failures.push(`${leg.name}: ${leg.detail}`);
    }
  }
  console.log("  React 18 + TanStack Query 5.108: tests/react18 runs packages/react/test in `pnpm test`");
  if (failures.length) {
    console.log("\nfailures:");
    for (const failure of failures) console.log(`  ${failure}`);
  }
  return { passed, failed };
}

/** Runs `tasks` with at most `limit` at a time, keeping their order in the result. */
async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export async function main(argv: string[]): Promise<number> {
  const only = argv
    .find((arg) => arg.startsWith("--only="))
    ?.slice("--only=".length)
    .split(",");
  const wanted = (name: string) => !only || only.includes(name);
  const started = Date.now();
  // Fetch every runtime first (in parallel: downloads, not CPU), so the timings below are the jobs'.
  const fetches = (Object.keys(RUNTIMES) as RuntimeName[])
    .filter((name) => wanted(name) || (name === "node22" && wanted("msw3")))
    .map((name) => ensureRuntime(name, (line) => log(name, line)).catch(() => undefined));
  await Promise.all(fetches);
  const { environment, close } = await startEnvironment();
  console.log(`mock server ${environment.mockUrl} (slow queue ${environment.slowUrl}), webhook sink ${environment.sinkUrl}`);
  const rows: Row[] = [];
  const legs: Leg[] = [];
  try {
    const tasks: (() => Promise<Row>)[] = SERVER_RUNTIMES.filter((runtime) => wanted(runtime.name)).map(
      (runtime) => () => runServerRuntime(runtime, environment),
    );
    if (wanted("workerd")) tasks.push(() => runWorkerd(environment));
    if (wanted("chromium")) tasks.push(() => runChromium(environment));
    // Two at a time: the machine has two cores, and each job mostly waits on the mock's timeline.
    rows.push(...(await pooled(tasks, 2)));
    if (wanted("msw3")) legs.push(await runMsw3());
  } finally {
    await close();
  }
  const { passed, failed } = printTable(rows, legs);
  console.log(`\ntook ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

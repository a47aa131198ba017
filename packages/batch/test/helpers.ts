/**
 * Shared pieces of the batch tests: job files, a runner in a child process (the built dist, as a
 * user runs it), and reading an output folder back.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ResultLine } from "../src/index.js";

export const DIST = resolve(import.meta.dirname, "../dist/index.js");
if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run "pnpm --filter @kontext-sdk/batch build" first`);

export const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";

export const tempDir = (prefix: string) => mkdtemp(join(tmpdir(), `kontext-batch-${prefix}-`));

/** `count` jobs whose seed is their number, so the mock's jobs can be traced back to them. */
export async function writeJobs(dir: string, count: number): Promise<string> {
  const path = join(dir, "jobs.jsonl");
  const lines = Array.from({ length: count }, (_, i) => {
    const id = `job-${String(i).padStart(5, "0")}`;
    return JSON.stringify({ id, endpoint: ENDPOINT, input: { prompt: `batch ${id}`, seed: i } });
  });
  await writeFile(path, `${lines.join("\n")}\n`);
  return path;
}

export interface ChildRun {
  process: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function startChild(script: string, args: string[], env: Record<string, string>): ChildRun {
  const child = spawn(process.execPath, [resolve(import.meta.dirname, "fixtures", script), ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) =>
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr })),
  );
  return { process: child, exit };
}

/** Lines in a file (0 when it does not exist yet). */
export async function lineCount(path: string): Promise<number> {
  const text = await readFile(path, "utf8").catch(() => "");
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Waits (polling the file, no fixed delay) until it has at least `lines` lines, or the child ends. */
export async function waitForLines(path: string, lines: number, child: ChildRun): Promise<boolean> {
  let ended = false;
  void child.exit.then(() => {
    ended = true;
  });
  while (!ended) {
    if ((await lineCount(path)) >= lines) return true;
    await new Promise((r) => setTimeout(r, 15));
  }
  return false;
}

export async function readResults(out: string): Promise<ResultLine[]> {
  const text = await readFile(join(out, "results.jsonl"), "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ResultLine);
}

/** Mock jobs per job seed: more than one means a job was submitted twice. */
export function jobsPerSeed(jobs: Iterable<{ input: Record<string, unknown>; sync: boolean }>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const job of jobs) {
    if (job.sync) continue;
    const seed = job.input.seed as number;
    counts.set(seed, (counts.get(seed) ?? 0) + 1);
  }
  return counts;
}

/** Small helpers shared by the bench sections and the soak: statistics, tables, workspace paths. */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const benchDir = join(root, "bench");

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const round = (n: number, digits = 2) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} kB`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Prints rows as an aligned text table (first row = header). */
export function table(title: string, rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(cells[0]!));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

export const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

/**
 * Imports a workspace package entry: its build output (packages/<name>/dist/<entry>.js) when there is
 * one, else its TypeScript source through tsx. The bench lives at the repository root, outside the
 * workspace, so it loads the packages by path.
 */
const warned = new Set<string>();
export async function importPackage<T = any>(pkg: "client" | "mocks" | "react" | "schema", entry = "index"): Promise<T> {
  const dist = join(root, "packages", pkg, "dist", `${entry}.js`);
  const src = join(root, "packages", pkg, "src", `${entry}.ts`);
  const file = existsSync(dist) ? dist : src;
  if (!existsSync(file)) throw new Error(`@kontext-sdk/${pkg}: neither ${dist} nor ${src} exists`);
  if (file === src && !warned.has(pkg)) {
    warned.add(pkg);
    console.warn(`(note: @kontext-sdk/${pkg} is not built; using its source — pnpm --filter @kontext-sdk/${pkg} build)`);
  }
  return (await import(pathToFileURL(file).href)) as T;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memory: mb(os.totalmem()),
    /** 1-minute load average when the run started: figures from a busy machine are not comparable. */
    loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
    date: new Date().toISOString(),
  };
}

const resultsFile = join(benchDir, "results.json");

/** Merges one part (a bench section, or the soak) into bench/results.json, keeping the others. */
export function writeResults(part: Record<string, unknown>): void {
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(readFileSync(resultsFile, "utf8"));
  } catch {}
  const next = { ...current, ...part };
  writeFileSync(`${resultsFile}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(`${resultsFile}.tmp`, resultsFile);
}

/**
 * Builds what the bench measures (client, mocks, react, any `extra` package, and their dependencies) through turbo, so the
 * figures follow the current source; unchanged packages come from turbo's cache in well under a second.
 */
export function prebuild(extra: readonly string[] = []): void {
  const t0 = performance.now();
  const r = spawnSync(
    "pnpm",
    [
      "exec",
      "turbo",
      "run",
      "build",
      "--filter=@kontext-sdk/react...",
      "--filter=@kontext-sdk/mocks...",
      // e.g. the upload section runs the built CLI (packages/cli/dist/bin.js).
      ...extra.map((name) => `--filter=@kontext-sdk/${name}...`),
      "--output-logs=errors-only",
    ],
    {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1", FORCE_COLOR: "0" },
    },
  );
  if (r.status !== 0) throw new Error(`prebuild failed (turbo run build):\n${`${r.stdout}\n${r.stderr}`.slice(-2000)}`);
  const cached = /Cached:\s+(\d+) cached, (\d+) total/.exec(r.stdout);
  console.log(
    `(built client, mocks, react${extra.map((name) => `, ${name}`).join("")} with turbo in ${((performance.now() - t0) / 1000).toFixed(1)} s${cached ? `, ${cached[1]}/${cached[2]} from cache` : ""}; --no-prebuild skips this)`,
  );
}

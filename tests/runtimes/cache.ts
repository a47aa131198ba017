/**
 * The runtimes `pnpm test:runtimes` (and the Worker example's test) run on, fetched from the npm registry
 * on first use into a cache outside the repo, so a fresh clone needs only Node 20 + npm and a second
 * run downloads nothing. They are not workspace dependencies on purpose: ~500 MB of binaries would
 * land in every `pnpm install` (CI installs on every run), while only this script needs them.
 *
 * Cache: $KONTEXT_RUNTIMES_CACHE, else $XDG_CACHE_HOME/kontext-runtimes, else ~/.cache/kontext-runtimes;
 * one folder per exact version (`bun@1.4.5`), filled in a temporary folder and renamed into place, so
 * two processes fetching at once cannot leave a half-installed runtime behind.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface RuntimeSpec {
  /** The npm package that ships the binary (for Node, the platform package `node-<os>-<arch>`, which needs no install script). */
  npmPackage: string;
  version: string;
  /** The executable's file name inside the installed package. */
  executable: string;
  /** Other names it may have: bun's install script moves its binary to `bun/bin/bun.exe`, on every OS. */
  aliases?: string[];
}

/** Exact versions: a new one is a deliberate edit here, never a surprise in CI. */
export const RUNTIMES = {
  /** The floor of every package's `engines` (>=20.19): proven, not assumed. */
  "node20.19": { npmPackage: `node-${process.platform}-${process.arch}`, version: "20.19.0", executable: "node" },
  node22: { npmPackage: `node-${process.platform}-${process.arch}`, version: "22.23.3", executable: "node" },
  node24: { npmPackage: `node-${process.platform}-${process.arch}`, version: "24.21.0", executable: "node" },
  bun: { npmPackage: "bun", version: "1.4.5", executable: "bun", aliases: ["bun.exe"] },
  deno: { npmPackage: "deno", version: "2.9.6", executable: "deno" },
  workerd: { npmPackage: "workerd", version: "1.20261117.1", executable: "workerd" },
} satisfies Record<string, RuntimeSpec>;

export type RuntimeName = keyof typeof RUNTIMES;

export function cacheRoot(): string {
  if (process.env.KONTEXT_RUNTIMES_CACHE) return process.env.KONTEXT_RUNTIMES_CACHE;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kontext-runtimes");
}

/** The real binary (not an npm shim): the first file of that name over 1 MB under node_modules. */
function findExecutable(dir: string, spec: RuntimeSpec, depth = 0): string | undefined {
  if (depth > 6 || !existsSync(dir)) return undefined;
  const names = [spec.executable, ...(spec.aliases ?? [])];
  const entries = readdirSync(dir, { withFileTypes: true });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isFile() && names.includes(entry.name) && statSync(path).size > 1_000_000) return path;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === ".bin") continue;
    const found = findExecutable(join(dir, entry.name), spec, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Returns the runtime's executable, installing it from the npm registry first when it is not cached. */
export async function ensureRuntime(name: RuntimeName, log: (line: string) => void = () => {}): Promise<string> {
  const spec: RuntimeSpec = RUNTIMES[name];
  const home = join(cacheRoot(), `${spec.npmPackage}@${spec.version}`);
  const cached = findExecutable(join(home, "node_modules"), spec);
  if (cached) return cached;
  mkdirSync(cacheRoot(), { recursive: true });
  const staging = join(cacheRoot(), `.staging-${name}-${process.pid}-${Date.now()}`);
  mkdirSync(staging, { recursive: true });
  log(`fetching ${spec.npmPackage}@${spec.version} from the npm registry into ${home}`);
  try {
    await run(
      "npm",
      [
        "install",
        "--prefix",
        staging,
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        `${spec.npmPackage}@${spec.version}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    if (!findExecutable(join(staging, "node_modules"), spec)) {
      throw new Error(
        `${spec.npmPackage}@${spec.version} installed, but no '${spec.executable}' binary for ${process.platform}-${process.arch} came with it`,
      );
    }
    try {
      renameSync(staging, home);
    } catch (error) {
      // Another process got there first: its copy is complete (it was renamed whole), use it.
      if (!existsSync(home)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const installed = findExecutable(join(home, "node_modules"), spec);
  if (!installed) throw new Error(`no '${spec.executable}' in ${home}`);
  return installed;
}

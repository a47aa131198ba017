/**
 * Section 5: `pnpm build` (turbo run build) cold — `--force`, no cache reads — and then warm, served
 * from turbo's local cache. Runs last: a cold build rewrites every package's dist/.
 * With `--build-clone` it runs in a fresh clone of HEAD instead (offline `pnpm install` from the local
 * store), so it can be measured while others work in this tree, and cold also means no dist/ at all.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, round, table } from "../lib/util.js";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1", FORCE_COLOR: "0" };

function run(cmd: string, args: string[], cwd: string) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${out.slice(-2000)}`);
  return { seconds: (performance.now() - t0) / 1000, out };
}

function turbo(cwd: string, args: string[]) {
  const { seconds, out } = run("pnpm", ["exec", "turbo", "run", "build", ...args], cwd);
  const tasks = out.match(/Tasks:\s+(\d+) successful, (\d+) total/);
  const cached = out.match(/Cached:\s+(\d+) cached, (\d+) total/);
  return {
    seconds: round(seconds, 2),
    tasks: tasks ? Number(tasks[2]) : undefined,
    cached: cached ? Number(cached[1]) : undefined,
  };
}

export async function buildSection(options: { clone?: boolean } = {}) {
  let cwd = root;
  let commit: string | undefined;
  if (options.clone) {
    cwd = mkdtempSync(join(tmpdir(), "kontext-build-"));
    run("git", ["clone", "--quiet", root, cwd], root);
    commit = run("git", ["rev-parse", "--short", "HEAD"], cwd).out.trim();
    run("pnpm", ["install", "--offline", "--frozen-lockfile"], cwd);
  }
  try {
    const cold = turbo(cwd, ["--force"]);
    const warm = turbo(cwd, []);
    table(`5. Build: pnpm build (turbo run build)${commit ? `, fresh clone of ${commit}` : ""}`, [
      ["run", "wall time", "tasks", "from cache"],
      ["cold (--force, no cache reads)", `${cold.seconds.toFixed(2)} s`, cold.tasks ?? "?", cold.cached ?? "?"],
      ["warm (turbo cache)", `${warm.seconds.toFixed(2)} s`, warm.tasks ?? "?", warm.cached ?? "?"],
    ]);
    console.log(`warm is ${(cold.seconds / warm.seconds).toFixed(1)}× faster than cold`);
    return {
      cold,
      warm,
      speedup: round(cold.seconds / warm.seconds, 1),
      where: commit ? `fresh clone of ${commit}` : "work tree",
    };
  } finally {
    if (options.clone) rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * Section 5: `pnpm build` (turbo run build) cold — `--force`, no cache reads — and then warm, served
 * from turbo's local cache. Runs last: a cold build rewrites every package's dist/.
 */
import { spawnSync } from "node:child_process";
import { root, round, table } from "../lib/util.js";

function turbo(args: string[]) {
  const t0 = performance.now();
  const run = spawnSync("pnpm", ["exec", "turbo", "run", "build", ...args], {
    cwd: root,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1", FORCE_COLOR: "0" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - t0) / 1000;
  const out = `${run.stdout}\n${run.stderr}`;
  if (run.status !== 0) throw new Error(`turbo run build ${args.join(" ")} failed (${run.status}):\n${out.slice(-2000)}`);
  const tasks = out.match(/Tasks:\s+(\d+) successful, (\d+) total/);
  const cached = out.match(/Cached:\s+(\d+) cached, (\d+) total/);
  return {
    seconds: round(seconds, 2),
    tasks: tasks ? Number(tasks[2]) : undefined,
    cached: cached ? Number(cached[1]) : undefined,
  };
}

export async function buildSection() {
  const cold = turbo(["--force"]);
  const warm = turbo([]);
  table("5. Build: pnpm build (turbo run build)", [
    ["run", "wall time", "tasks", "from cache"],
    ["cold (--force, no cache reads)", `${cold.seconds.toFixed(2)} s`, cold.tasks ?? "?", cold.cached ?? "?"],
    ["warm (turbo cache)", `${warm.seconds.toFixed(2)} s`, warm.tasks ?? "?", warm.cached ?? "?"],
  ]);
  console.log(`warm is ${(cold.seconds / warm.seconds).toFixed(1)}× faster than cold`);
  return { cold, warm, speedup: round(cold.seconds / warm.seconds, 1) };
}

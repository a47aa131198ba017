/**
 * pnpm release — builds every package and runs `pnpm publish --dry-run` for each publishable one,
 * so a release is rehearsed on every CI run. Pass `--publish` to publish for real (after
 * `pnpm changeset version`), which CI never does.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const real = process.argv.includes("--publish");
const run = (cmd: string, args: string[], cwd = root) => execFileSync(cmd, args, { cwd, stdio: "inherit", env: process.env });

run("pnpm", ["exec", "turbo", "run", "build"]);

const packages = readdirSync(join(root, "packages"))
  .map((dir) => ({
    dir: join(root, "packages", dir),
    pkg: JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")),
  }))
  .filter(({ pkg }) => !pkg.private);

for (const { dir, pkg } of packages) {
  console.log(`\n── ${pkg.name}@${pkg.version}${real ? "" : " (dry run)"}`);
  run("pnpm", ["publish", "--no-git-checks", "--access", "public", ...(real ? [] : ["--dry-run"])], dir);
}
console.log(`\n${packages.length} packages ${real ? "published" : "rehearsed (publish --dry-run)"}`);

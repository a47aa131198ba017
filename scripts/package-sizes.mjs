// Prints a markdown table of each publishable package's size: the main entry bundled whole (minified,
// gzip, dependencies included, peers and node builtins left out) and the packed tarball. For the README.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
const rows = ["| package | main entry, min + gzip | packed tarball |", "|---|---|---|"];
// Peers of any of our packages stay out of every bundle: an optional peer (BullMQ for the batch runner) is
// loaded only when a program asks for it, so it is not part of what the package costs.
const peers = new Set(
  readdirSync(join(root, "packages")).flatMap((dir) =>
    Object.keys(JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")).peerDependencies ?? {}),
  ),
);
for (const dir of readdirSync(join(root, "packages"))) {
  const pkgDir = join(root, "packages", dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  if (pkg.private) continue;
  const tmp = mkdtempSync(join(tmpdir(), "kontext-size-"));
  try {
    const entry = join(pkgDir, "size-entry.mjs");
    writeFileSync(entry, `export * from "${pkg.name}";\n`);
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: "esm",
      platform: dir === "cli" || dir === "batch" ? "node" : "browser",
      write: false,
      external: [...peers, "node:*"],
      logLevel: "silent",
    });
    rmSync(entry);
    const gz = gzipSync(out.outputFiles[0].contents, { level: 9 }).length;
    execFileSync("pnpm", ["pack", "--pack-destination", tmp], { cwd: pkgDir, stdio: "ignore" });
    const tarball = readdirSync(tmp)[0];
    rows.push(`| \`${pkg.name}\` | ${kb(gz)} | ${kb(statSync(join(tmp, tarball)).size)} |`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
console.log(rows.join("\n"));

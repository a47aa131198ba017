// Checks the parts of a publishable package.json that publint and attw don't: run from a package directory.
import { existsSync, readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const problems = [];
if (pkg.sideEffects !== false) problems.push('"sideEffects" must be false');
if (!pkg.engines?.node) problems.push('"engines.node" is missing');
if (!Array.isArray(pkg.files) || !pkg.files.includes("dist")) problems.push('"files" must list dist');
if (!pkg.license) problems.push('"license" is missing');
for (const file of ["LICENSE", "README.md"]) if (!existsSync(file)) problems.push(`${file} is missing`);
for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
  if (typeof target === "object" && !target.types) problems.push(`exports["${subpath}"] has no "types"`);
}
if (problems.length) {
  console.error(`${pkg.name}: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`${pkg.name}: package.json fields ok`);

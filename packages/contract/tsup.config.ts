import { copyFile, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { defineConfig } from "tsup";

const require = createRequire(import.meta.url);
const PROSE = new Set(["description", "summary", "example", "examples", "info", "tags", "servers", "contact", "license"]);

/** Drops what only people read (prose, examples), keeping paths, responses and schema refs. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !PROSE.has(key))
      .map(([key, v]) => [key, strip(v)]),
  );
}

const WORKFLOWS = new URL("../../spec/workflows.arazzo.yaml", import.meta.url);

/**
 * Ships the Arazzo workflows (spec/workflows.arazzo.yaml) in dist/, next to the bundled queue spec they
 * describe, so `kontext contract --arazzo` (or anyone with the package) can hand both to `redocly respect`.
 * The repository's file points at the YAML spec beside it; the shipped copy points at the bundled JSON.
 */
async function shipWorkflows(): Promise<void> {
  const source = await readFile(WORKFLOWS, "utf8");
  const shipped = source.replace("url: ./openapi.yaml", "url: ./openapi.json");
  if (shipped === source) throw new Error("spec/workflows.arazzo.yaml no longer names ./openapi.yaml as its source");
  await writeFile("dist/workflows.arazzo.yaml", shipped);
  await copyFile(require.resolve("@kontext-sdk/schema/openapi.json"), "dist/openapi.json");
}

export default defineConfig({
  onSuccess: shipWorkflows,
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  target: "es2022",
  treeshake: true,
  // Inline the bundled spec so Node 20 never loads a JSON module at run time (an experimental
  // warning there); it is read at build time and stays in step with the schema package.
  noExternal: [/^@kontext-sdk\/schema\/.*\.json$/],
  esbuildPlugins: [
    {
      name: "spec-without-prose",
      setup(build) {
        build.onResolve({ filter: /^@kontext-sdk\/schema\/(openapi|sync)\.json$/ }, (args) => ({
          path: require.resolve(args.path),
          namespace: "spec-json",
        }));
        build.onLoad({ filter: /.*/, namespace: "spec-json" }, async (args) => ({
          contents: JSON.stringify(strip(JSON.parse(await readFile(args.path, "utf8")))),
          loader: "json",
        }));
      },
    },
  ],
});

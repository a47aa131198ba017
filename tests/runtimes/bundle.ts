/** One ES module with every import inlined, for a Worker (workerd) or a browser page, built by esbuild. */
import { build } from "esbuild";

export async function bundleForWeb(entry: string, target: "worker" | "browser"): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // What a Worker build (wrangler) or a browser build (Vite) would pick from the packages' exports.
    conditions: target === "worker" ? ["workerd", "worker", "browser"] : ["browser"],
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.text;
}

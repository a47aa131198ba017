import { defineConfig } from "tsup";

export default defineConfig({
  // Each compiled validator is its own output file (the package is `sideEffects: false`), so a
  // bundle keeps only the validators its program imports; see scripts/generate.ts. The protocol core
  // is its own entry (`@kontext-sdk/schema/protocol`) for the same reason: the rules without validators.
  entry: ["src/index.ts", "src/protocol/index.ts", "src/generated/validators/*.js"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/protocol/index.ts"] },
  clean: true,
  target: "es2022",
  treeshake: true,
  splitting: true,
});

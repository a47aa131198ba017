import { defineConfig } from "tsup";

export default defineConfig({
  // The compiled validators are one side-effect-free module (the package is `sideEffects: false`), so a
  // bundle keeps only the validators its program reaches; see scripts/generate.ts. The protocol core
  // is its own entry (`@kontext-sdk/schema/protocol`): the rules without validators.
  entry: ["src/index.ts", "src/protocol/index.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/protocol/index.ts"] },
  clean: true,
  target: "es2022",
  treeshake: true,
  splitting: true,
});

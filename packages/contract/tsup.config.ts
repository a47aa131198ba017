import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  target: "es2022",
  treeshake: true,
  // Inline the bundled spec so Node 20 never loads a JSON module at run time (an experimental
  // warning there); the spec is read once at build time and stays in step with the schema package.
  noExternal: [/^@kontext-sdk\/schema\/.*\.json$/],
});

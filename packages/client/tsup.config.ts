import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/proxy.ts", "src/webhooks.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  target: "es2022",
  treeshake: true,
});

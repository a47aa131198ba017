import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/msw.ts", "src/server.ts", "src/fixtures.ts", "src/bin.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/msw.ts", "src/server.ts", "src/fixtures.ts"] },
  clean: true,
  target: "es2022",
  treeshake: true,
  external: ["msw"],
  // Keep `node:` specifiers so Deno and Bun resolve the server entry as Node built-ins.
  removeNodeProtocol: false,
});

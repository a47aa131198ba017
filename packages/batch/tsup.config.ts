import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/redis.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  target: "node20",
  platform: "node",
  // BullMQ is an optional peer: loaded with a dynamic import only when a Redis queue is used.
  external: ["bullmq"],
});

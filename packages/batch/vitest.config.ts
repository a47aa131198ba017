import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The crash tests start runner processes (and a Redis server) and push thousands of short jobs
    // through the mock server; one at a time, with room for a loaded machine.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});

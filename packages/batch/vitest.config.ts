import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The crash tests start runner processes (and a Redis server) and push thousands of short jobs
    // through the mock server; a loaded machine needs the room.
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});

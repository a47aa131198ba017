import { defineConfig } from "vitest/config";

// Its own config so vitest does not load vite.config.ts (and its mock-server plugin) for itself.
export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

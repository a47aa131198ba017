import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Generous: CI runs every package at once on two cores. No test here asserts a duration.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    environment: "jsdom",
    setupFiles: ["test/setup.ts"],
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    typecheck: { include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    typecheck: { include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    // Each test starts the built bin as a child process (and often a mock server); a job on the
    // mock's default timeline takes about a second.
    testTimeout: 30_000,
  },
});

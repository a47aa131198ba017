import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The react package's own test files, run as is. `dedupe` makes every import of these packages in
// the graph (the test files', packages/react/src's) resolve from this package: React 18 and the
// newest TanStack Query 5. test/versions.test.ts checks that it really does.
const root = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  resolve: { dedupe: ["react", "react-dom", "@tanstack/react-query", "@testing-library/react", "@testing-library/dom", "msw"] },
  test: {
    // Generous: CI runs every package at once on two cores. No test here asserts a duration.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    environment: "jsdom",
    setupFiles: [`${root}packages/react/test/setup.ts`],
    dir: root,
    include: ["packages/react/test/**/*.test.ts", "packages/react/test/**/*.test.tsx", "tests/react18/test/*.test.ts"],
  },
});

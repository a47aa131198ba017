import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The mocks package's own MSW test file, run as is. `dedupe` makes every `msw` import in the graph
// (the test file's, and `packages/mocks/src/msw.ts`'s) resolve from this package, i.e. to msw 3;
// test/msw-version.test.ts checks that it really does.
const mocksTests = fileURLToPath(new URL("../../packages/mocks/test/", import.meta.url));

export default defineConfig({
  resolve: { dedupe: ["msw"] },
  test: {
    // Generous: CI runs every package at once on two cores. No test here asserts a duration.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    dir: fileURLToPath(new URL("../..", import.meta.url)),
    include: [`${mocksTests}msw.test.ts`, "tests/msw3/test/*.test.ts"],
  },
});

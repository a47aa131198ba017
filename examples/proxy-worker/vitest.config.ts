import { defineConfig } from "vitest/config";

// The first run fetches workerd (about 40 MB) into the runtimes cache: give it time.
export default defineConfig({ test: { include: ["test/**/*.test.ts"], hookTimeout: 240_000, testTimeout: 60_000 } });

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RequestHandler } from "msw";
import { expect, it } from "vitest";
import { createKontextMock } from "../../../packages/mocks/src/index.js";
import { kontextHandlers } from "../../../packages/mocks/src/msw.js";

// The handlers under test must be msw 3's, not a second copy of msw 2 found next to the mocks package.
it("loads msw 3, and the mocks' handlers are msw 3 handlers", async () => {
  const mswEntry = fileURLToPath(import.meta.resolve("msw"));
  const manifest = JSON.parse(readFileSync(mswEntry.replace(/lib[\\/]core[\\/].*$/, "package.json"), "utf8"));
  expect(manifest.version).toMatch(/^3\./);
  const handlers = kontextHandlers(createKontextMock());
  expect(handlers.length).toBeGreaterThan(0);
  for (const handler of handlers) expect(handler).toBeInstanceOf(RequestHandler);
});

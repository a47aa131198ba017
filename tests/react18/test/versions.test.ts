import { QueryClient } from "@tanstack/react-query";
import { version as reactVersion } from "react";
import { version as reactDomVersion } from "react-dom";
import { expect, it } from "vitest";
import { useKontext } from "../../../packages/react/src/index.js";

it("runs the hooks on React 18", () => {
  expect(reactVersion).toMatch(/^18\./);
  expect(reactDomVersion).toMatch(/^18\./);
  expect(typeof useKontext).toBe("function");
});

it("uses the TanStack Query this package pins", async () => {
  const manifest = await import("@tanstack/react-query/package.json", { with: { type: "json" } });
  expect(manifest.default.version).toBe("5.108.4");
  expect(new QueryClient()).toBeInstanceOf(QueryClient);
});

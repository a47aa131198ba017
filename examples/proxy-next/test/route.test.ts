import type { Server } from "node:http";
import { createKontextClient, KontextApiError } from "@kontext-sdk/client";
import { startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RouteModule, serveRoute } from "./next-host.js";

// The route module, imported the way Next imports it (its configuration comes from the environment),
// served over real HTTP on loopback, with the mock server as the upstream.
const T2I = "fal-ai/flux-pro/kontext/text-to-image";
const MOUNT = "/api/fal/proxy";
let upstream: Awaited<ReturnType<typeof startMockServer>>;
let route: RouteModule & { dynamic?: string };
let host: { origin: string; server: Server };

beforeAll(async () => {
  upstream = await startMockServer({ timeline: { queueSteps: 1, progressSteps: 2, stepMs: 100 } });
  process.env.FAL_KEY = "server-key";
  process.env.KONTEXT_PROXY_TARGET = upstream.url;
  route = await import("../app/api/fal/proxy/[[...path]]/route.js");
  host = await serveRoute(route, MOUNT);
});

afterAll(async () => {
  host.server.closeAllConnections();
  await new Promise((resolve) => host.server.close(resolve));
  await upstream.close();
  delete process.env.FAL_KEY;
  delete process.env.KONTEXT_PROXY_TARGET;
});

it("exports GET, POST and PUT (cancel), and is never cached", () => {
  expect(typeof route.GET).toBe("function");
  expect(typeof route.POST).toBe("function");
  expect(typeof route.PUT).toBe("function");
  expect(route.dynamic).toBe("force-dynamic");
});

it("runs a job through the route handlers, status stream included", async () => {
  const origin = host.origin;
  // A browser on this origin sends the Origin header itself; outside a browser the test sends it.
  const kontext = createKontextClient({ proxyUrl: `${origin}${MOUNT}`, headers: { origin } });
  const statuses: string[] = [];
  const { data, requestId } = await kontext.subscribe(
    T2I,
    { prompt: "a fox on next" },
    { onQueueUpdate: (s) => statuses.push(s.status) },
  );
  expect(data.images).toHaveLength(1);
  expect(statuses.at(-1)).toBe("COMPLETED");
  const operations = upstream.mock.requests
    .filter((r) => r.path.includes(requestId) || r.operation === "submit")
    .map((r) => r.operation);
  expect(operations).toEqual(expect.arrayContaining(["submit", "stream", "result"]));
  expect((await kontext.cancel(T2I, requestId)).status).toBe("ALREADY_COMPLETED");
});

it("refuses a call from another origin without calling upstream", async () => {
  const before = upstream.mock.requests.length;
  const kontext = createKontextClient({
    proxyUrl: `${host.origin}${MOUNT}`,
    headers: { origin: "https://evil.example" },
    retry: false,
  });
  const refused = await kontext.submit(T2I, { prompt: "not yours" }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(KontextApiError);
  expect((refused as KontextApiError).status).toBe(403);
  expect((refused as KontextApiError).errorType).toBe("proxy_forbidden");
  expect(upstream.mock.requests.length).toBe(before);
});

it("answers 405 for a method the route does not export, like Next", async () => {
  const response = await fetch(`${host.origin}${MOUNT}/${T2I}`, { method: "DELETE", headers: { origin: host.origin } });
  expect(response.status).toBe(405);
  expect(response.headers.get("allow")).toContain("PUT");
});

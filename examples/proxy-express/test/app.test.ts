import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createKontextClient, KontextApiError } from "@kontext-sdk/client";
import { startMockServer } from "@kontext-sdk/mocks/server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp, MOUNT } from "../src/app.js";

// The Express app on loopback, with the mock server as its upstream.
const T2I = "fal-ai/flux-pro/kontext/text-to-image";
let upstream: Awaited<ReturnType<typeof startMockServer>>;
let server: Server;
let origin: string;

beforeAll(async () => {
  upstream = await startMockServer({ timeline: { queueSteps: 1, progressSteps: 2, stepMs: 100 } });
  const app = createApp({ credentials: "server-key", target: { queue: upstream.url, sync: `${upstream.url}/sync` } });
  server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, "127.0.0.1", () => resolve(started));
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await upstream.close();
});

it("runs a job through the Express middleware, status stream included", async () => {
  // A browser on this origin sends the Origin header itself; outside a browser the test sends it.
  const kontext = createKontextClient({ proxyUrl: `${origin}${MOUNT}`, headers: { origin } });
  const statuses: string[] = [];
  const { data, requestId } = await kontext.subscribe(
    T2I,
    { prompt: "a fox on express" },
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

it("serves the direct queue paths under the mount (Express strips the mount from req.url)", async () => {
  const submitted = await fetch(`${origin}${MOUNT}/${T2I}`, {
    method: "POST",
    headers: { origin, "content-type": "application/json" },
    body: JSON.stringify({ prompt: "direct path" }),
  });
  expect(submitted.status).toBe(200);
  const body = (await submitted.json()) as { request_id: string; status_url: string };
  expect(body.status_url).toBe(`${origin}${MOUNT}/fal-ai/flux-pro/requests/${body.request_id}/status`);
});

it("refuses a call from another origin without calling upstream", async () => {
  const before = upstream.mock.requests.length;
  const kontext = createKontextClient({
    proxyUrl: `${origin}${MOUNT}`,
    headers: { origin: "https://evil.example" },
    retry: false,
  });
  const refused = await kontext.submit(T2I, { prompt: "not yours" }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(KontextApiError);
  expect((refused as KontextApiError).status).toBe(403);
  expect((refused as KontextApiError).errorType).toBe("proxy_forbidden");
  expect(upstream.mock.requests.length).toBe(before);
});

import { fileURLToPath } from "node:url";
import { createKontextClient, KontextApiError } from "@kontext-sdk/client";
import { startMockServer } from "@kontext-sdk/mocks/server";
import { bundleForWeb } from "@kontext-sdk/test-runtimes/bundle";
import { ensureRuntime } from "@kontext-sdk/test-runtimes/cache";
import { startWorkerd, type Workerd } from "@kontext-sdk/test-runtimes/workerd";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MOUNT } from "../src/mount.js";

// The Worker, bundled as wrangler would bundle it, runs in workerd (Cloudflare's runtime, fetched from the
// npm registry into the runtimes cache); its upstream is the mock server on loopback.
const T2I = "fal-ai/flux-pro/kontext/text-to-image";
let upstream: Awaited<ReturnType<typeof startMockServer>>;
let workerd: Workerd;

beforeAll(async () => {
  upstream = await startMockServer({ timeline: { queueSteps: 1, progressSteps: 2, stepMs: 100 } });
  const [executable, source] = await Promise.all([
    ensureRuntime("workerd"),
    bundleForWeb(fileURLToPath(new URL("../src/worker.ts", import.meta.url)), "worker"),
  ]);
  workerd = await startWorkerd(executable, [
    {
      name: "proxy",
      source,
      bindings: [
        { name: "FAL_KEY", text: "worker-secret-key" },
        { name: "KONTEXT_PROXY_TARGET", text: upstream.url },
      ],
    },
  ]);
}, 240_000);

afterAll(async () => {
  await workerd?.close();
  await upstream?.close();
});

it("runs a job through the Worker, with the Worker's key", async () => {
  const origin = workerd.url;
  // A browser on the Worker's origin sends this Origin header itself; outside a browser we send it.
  const kontext = createKontextClient({ proxyUrl: `${origin}${MOUNT}`, headers: { origin } });
  const { data, requestId } = await kontext.subscribe(T2I, { prompt: "a fox in a worker" });
  expect(data.images).toHaveLength(1);
  const operations = upstream.mock.requests
    .filter((r) => r.path.includes(requestId) || r.operation === "submit")
    .map((r) => r.operation);
  expect(operations).toEqual(expect.arrayContaining(["submit", "stream", "result"]));
  // The job's URLs point back at the Worker, so a browser that follows them stays on it.
  const submitted = await kontext.submit(T2I, { prompt: "urls" });
  expect(submitted.body.status_url).toBe(`${origin}${MOUNT}/fal-ai/flux-pro/requests/${submitted.requestId}/status`);
  // PUT (cancel) goes through too; the first job is finished, so upstream's answer is ALREADY_COMPLETED.
  expect((await kontext.cancel(T2I, requestId)).status).toBe("ALREADY_COMPLETED");
});

it("refuses a call from another origin without calling upstream", async () => {
  const before = upstream.mock.requests.length;
  const kontext = createKontextClient({
    proxyUrl: `${workerd.url}${MOUNT}`,
    headers: { origin: "https://evil.example" },
    retry: false,
  });
  const refused = await kontext.submit(T2I, { prompt: "not yours" }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(KontextApiError);
  expect((refused as KontextApiError).status).toBe(403);
  expect((refused as KontextApiError).errorType).toBe("proxy_forbidden");
  expect(upstream.mock.requests.length).toBe(before);
});

it("answers 404 outside the mount", async () => {
  const response = await fetch(`${workerd.url}/elsewhere`);
  expect(response.status).toBe(404);
});

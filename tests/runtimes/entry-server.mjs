// Node, Bun and Deno run this file as is (no bundling): it imports the BUILT packages by name, the way
// a user's program does, runs the shared steps and prints one `KX {json}` line per step.
// Config comes from the KONTEXT_RUNTIME_CONFIG environment variable (set by tests/runtimes/run.ts).
import * as client from "@kontext-sdk/client";
import * as proxyModule from "@kontext-sdk/client/proxy";
import * as webhooks from "@kontext-sdk/client/webhooks";
import { foreignCallRefused, proxyJob, runSteps } from "./steps.mjs";

const config = JSON.parse(globalThis.process?.env?.KONTEXT_RUNTIME_CONFIG ?? Deno.env.get("KONTEXT_RUNTIME_CONFIG"));
const kx = { client, webhooks, proxy: proxyModule };
const MOUNT = "/api/fal/proxy";

function createProxy(publicUrl) {
  return proxyModule.createKontextProxy({
    credentials: "proxy-server-key",
    target: { queue: config.mockUrl, sync: `${config.mockUrl}/sync` },
    basePath: MOUNT,
    // A deployed app's setting: the name browsers use (the proxy answers only for names it knows).
    ...(publicUrl ? { publicUrl } : {}),
  });
}

/** The proxy's web handler called in-process, with the same-origin headers a browser would send. */
async function inProcessProxy() {
  const origin = "http://app.test";
  const proxy = createProxy(`${origin}${MOUNT}`);
  const proxyFetch = (input, init) => proxy(new Request(input, init));
  const job = await proxyJob(kx, {
    proxyUrl: `${origin}${MOUNT}`,
    fetch: proxyFetch,
    headers: { origin },
    prompt: `proxied on ${config.runtime}`,
  });
  await foreignCallRefused(proxyFetch, `${origin}${MOUNT}`);
  return `job ${job.requestId} through createKontextProxy (${job.calls} calls); a foreign origin got 403`;
}

/** The same proxy behind `toNodeHandler` on this runtime's node:http server, over real HTTP. */
async function nodeAdapterProxy() {
  const { createServer } = await import("node:http");
  const handle = proxyModule.toNodeHandler(createProxy());
  const server = createServer((req, res) => void handle(req, res));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  try {
    const job = await proxyJob(kx, {
      proxyUrl: `${origin}${MOUNT}`,
      fetch: (input, init) => fetch(input, init),
      headers: { origin },
      prompt: `node:http on ${config.runtime}`,
    });
    await foreignCallRefused(fetch, `${origin}${MOUNT}`);
    return `job ${job.requestId} through toNodeHandler on node:http; a foreign origin got 403`;
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
}

await runSteps(kx, config, (result) => console.log(`KX ${JSON.stringify(result)}`), {
  proxy: inProcessProxy,
  nodeAdapter: nodeAdapterProxy,
});
console.log("KX-DONE");
// Keep-alive sockets and the mock's SSE connections must not keep the process alive.
globalThis.process?.exit?.(0);

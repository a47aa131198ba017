// The client in a browser page (headless Chromium), bundled by esbuild: the shared steps against the
// mock server (cross-origin, CORS), and a job through the proxy that the page's own Node server mounts
// at /api/fal/proxy (same-origin, let in by the proxy's default policy on the browser's own headers).
// Each step is logged as `KX {json}`; the orchestrator reads the console.
import * as client from "@kontext-sdk/client";
import * as proxy from "@kontext-sdk/client/proxy";
import * as webhooks from "@kontext-sdk/client/webhooks";
import { proxyJob, runSteps, T2I } from "./steps.mjs";

const config = globalThis.__KX_CONFIG;
const kx = { client, webhooks, proxy };

/** Another origin (localhost vs 127.0.0.1) must not be able to use the proxy: it answers no CORS preflight. */
async function crossOriginBlocked() {
  const foreign = new URL(location.href);
  foreign.hostname = foreign.hostname === "localhost" ? "127.0.0.1" : "localhost";
  try {
    await fetch(`${foreign.origin}/api/fal/proxy/${T2I}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "from another origin" }),
    });
  } catch {
    return true;
  }
  return false;
}

await runSteps(kx, config, (result) => console.log(`KX ${JSON.stringify(result)}`), {
  proxy: async () => {
    const job = await proxyJob(kx, {
      proxyUrl: "/api/fal/proxy",
      fetch: (input, init) => fetch(input, init),
      prompt: "proxied from a page",
    });
    if (!(await crossOriginBlocked())) throw new Error("a page on another origin could call the proxy");
    return `job ${job.requestId} through the same-origin proxy (${job.calls} calls); another origin blocked`;
  },
  nodeAdapter: "not applicable: a browser has no node:http server (the page's proxy runs in Node, on toNodeHandler)",
});
console.log("KX-DONE");

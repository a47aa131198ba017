// The client inside a Worker (workerd): GET /run runs the shared steps and streams one `KX {json}` line
// per step. The proxy step calls the proxy Worker (examples/proxy-worker, bundled the way wrangler
// bundles it) through a service binding, so the proxy's fetch handler serves that job inside workerd too.
import * as client from "@kontext-sdk/client";
import * as proxy from "@kontext-sdk/client/proxy";
import * as webhooks from "@kontext-sdk/client/webhooks";
import { foreignCallRefused, proxyJob, runSteps } from "./steps.mjs";

const PROXY_ORIGIN = "http://proxy.worker"; // the PUBLIC_URL the proxy Worker is given
const MOUNT = "/api/fal/proxy";

export default {
  fetch(_request, env, ctx) {
    const config = JSON.parse(env.CONFIG);
    const kx = { client, webhooks, proxy };
    const encoder = new TextEncoder();
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    const line = (text) => writer.write(encoder.encode(`${text}\n`));
    const proxyFetch = (input, init) => env.PROXY.fetch(input, init);
    const finished = runSteps(kx, config, (result) => line(`KX ${JSON.stringify(result)}`), {
      proxy: async () => {
        const job = await proxyJob(kx, {
          proxyUrl: `${PROXY_ORIGIN}${MOUNT}`,
          fetch: proxyFetch,
          headers: { origin: PROXY_ORIGIN },
          prompt: "proxied inside workerd",
        });
        await foreignCallRefused(proxyFetch, `${PROXY_ORIGIN}${MOUNT}`);
        return `job ${job.requestId} through the proxy Worker (service binding, ${job.calls} calls); a foreign origin got 403`;
      },
      nodeAdapter:
        "not applicable: a Worker has no node:http server (toNodeHandler adapts node:http; Workers take the web handler as is)",
    })
      .then(() => line("KX-DONE"))
      .catch((error) => line(`KX-ERROR ${error?.stack ?? error}`))
      .finally(() => writer.close());
    ctx.waitUntil(finished);
    return new Response(readable, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
};

// app/api/fal/proxy/[[...path]]/route.ts — the optional catch-all makes both /api/fal/proxy (fal's proxy
// protocol, what `proxyUrl` clients call) and the direct queue paths under it reach these handlers.
import { createKontextProxy, toRouteHandlers } from "@kontext-sdk/client/proxy";

// FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET) is read from the environment on each request.
// KONTEXT_PROXY_TARGET: another fal-compatible upstream, e.g. `kontext-mock` in development and tests.
const target = process.env.KONTEXT_PROXY_TARGET;

const proxy = createKontextProxy({
  basePath: "/api/fal/proxy",
  ...(target ? { target: { queue: target, sync: `${target}/sync` } } : {}),
});

// PUT is the queue's cancel: leaving it out breaks cancellation.
export const { GET, POST, PUT } = toRouteHandlers(proxy);

// Every answer is per job and per moment: never cache or prerender it.
export const dynamic = "force-dynamic";

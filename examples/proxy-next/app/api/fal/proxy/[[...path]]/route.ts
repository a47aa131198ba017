// app/api/fal/proxy/[[...path]]/route.ts — the optional catch-all makes both /api/fal/proxy (fal's proxy
// protocol, what `proxyUrl` clients call) and the direct queue paths under it reach these handlers.
import { createKontextProxy, toRouteHandlers } from "@kontext-sdk/client/proxy";

// FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET) is read from the environment on each request.
// KONTEXT_PROXY_TARGET: another fal-compatible upstream, e.g. `kontext-mock` in development and tests.
const target = process.env.KONTEXT_PROXY_TARGET;
// Once deployed: the proxy's URL as browsers see it (https://app.example.com/api/fal/proxy). The proxy answers
// only for host names it knows (DNS rebinding); localhost and IP addresses need no setting.
const publicUrl = process.env.KONTEXT_PROXY_PUBLIC_URL;

const proxy = createKontextProxy({
  basePath: "/api/fal/proxy",
  ...(publicUrl ? { publicUrl } : {}),
  ...(target ? { target: { queue: target, sync: `${target}/sync` } } : {}),
});

// PUT is the queue's cancel: leaving it out breaks cancellation.
export const { GET, POST, PUT } = toRouteHandlers(proxy);

// Every answer is per job and per moment: never cache or prerender it.
export const dynamic = "force-dynamic";

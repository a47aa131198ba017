// A Cloudflare Worker that keeps the fal key: browsers call /api/fal/proxy on the Worker's own origin,
// and only the spec's Kontext operations go on to fal, with the key from the Worker's secrets.
// Deploy: `wrangler secret put FAL_KEY`, then `wrangler deploy` (wrangler.toml is next to this file).
import { createKontextProxy, type KontextProxyHandler } from "@kontext-sdk/client/proxy";
import { MOUNT } from "./mount.js";

export interface Env {
  /** `wrangler secret put FAL_KEY` (Workers have no process.env: secrets arrive on `env`). */
  FAL_KEY: string;
  /**
   * The proxy's URL as browsers see it (`https://kontext-proxy.you.workers.dev/api/fal/proxy`, a var in
   * wrangler.toml): the proxy answers only for host names it knows (DNS rebinding), and trusts this origin.
   * Not needed on localhost or an IP address (`wrangler dev`, tests).
   */
  PUBLIC_URL?: string;
  /** Optional: another fal-compatible upstream, e.g. the mock server in development and tests. */
  KONTEXT_PROXY_TARGET?: string;
}

// One proxy per `env`: the Worker's bindings arrive with each request, but the runtime hands the same
// object to every request an isolate serves, so the options are checked once and the proxy's default
// warn-once-per-reason log of refusals really warns once (a proxy built per request would warn every time).
const proxies = new WeakMap<Env, KontextProxyHandler>();

function proxyFor(env: Env): KontextProxyHandler {
  let proxy = proxies.get(env);
  if (!proxy) {
    const target = env.KONTEXT_PROXY_TARGET;
    proxy = createKontextProxy({
      credentials: env.FAL_KEY,
      basePath: MOUNT,
      ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
      ...(target ? { target: { queue: target, sync: `${target}/sync` } } : {}),
    });
    proxies.set(env, proxy);
  }
  return proxy;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname !== MOUNT && !pathname.startsWith(`${MOUNT}/`)) {
      return Promise.resolve(new Response("Not found", { status: 404 }));
    }
    return proxyFor(env)(request);
  },
};

// A Cloudflare Worker that keeps the fal key: browsers call /api/fal/proxy on the Worker's own origin,
// and only the spec's Kontext operations go on to fal, with the key from the Worker's secrets.
// Deploy: `wrangler secret put FAL_KEY`, then `wrangler deploy` (wrangler.toml is next to this file).
import { createKontextProxy } from "@kontext-sdk/client/proxy";
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

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname !== MOUNT && !pathname.startsWith(`${MOUNT}/`)) {
      return Promise.resolve(new Response("Not found", { status: 404 }));
    }
    const target = env.KONTEXT_PROXY_TARGET;
    // Creating the proxy is cheap (no I/O), and `env` only exists per request.
    const proxy = createKontextProxy({
      credentials: env.FAL_KEY,
      basePath: MOUNT,
      ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
      ...(target ? { target: { queue: target, sync: `${target}/sync` } } : {}),
    });
    return proxy(request);
  },
};

// The proxy in a Hono app: Hono hands each route the web-standard Request (`c.req.raw`), and the proxy
// answers with a web-standard Response, so the same app runs on Node (@hono/node-server), Bun, Deno and Workers.
import { createKontextProxy, type KontextProxyOptions } from "@kontext-sdk/client/proxy";
import { Hono } from "hono";

export const MOUNT = "/api/fal/proxy";

export function createApp(options: KontextProxyOptions = {}): Hono {
  const proxy = createKontextProxy({ basePath: MOUNT, ...options });
  const app = new Hono();
  // Both the mount itself (fal's proxy protocol: x-fal-target-url) and the direct queue paths under it.
  app.all(MOUNT, (c) => proxy(c.req.raw));
  app.all(`${MOUNT}/*`, (c) => proxy(c.req.raw));
  app.get("/", (c) => c.text("kontext proxy example: POST to /api/fal/proxy"));
  return app;
}

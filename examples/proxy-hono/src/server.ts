// FAL_KEY=... pnpm tsx src/server.ts   (KONTEXT_PROXY_TARGET=http://127.0.0.1:4010 to use `kontext-mock` instead of fal)
import { serve } from "@hono/node-server";
import { createApp } from "./app.js";

const target = process.env.KONTEXT_PROXY_TARGET;
// Once deployed: the proxy's URL as browsers see it (the proxy answers only for host names it knows).
const publicUrl = process.env.KONTEXT_PROXY_PUBLIC_URL;
const app = createApp({
  ...(target ? { target: { queue: target, sync: `${target}/sync` } } : {}),
  ...(publicUrl ? { publicUrl } : {}),
});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(`proxy listening on http://127.0.0.1:${info.port}/api/fal/proxy`);
});

// FAL_KEY=... pnpm tsx src/server.ts   (KONTEXT_PROXY_TARGET=http://127.0.0.1:4010 to use `kontext-mock` instead of fal)
import { serve } from "@hono/node-server";
import { createApp } from "./app.js";

const target = process.env.KONTEXT_PROXY_TARGET;
const app = createApp(target ? { target: { queue: target, sync: `${target}/sync` } } : {});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(`proxy listening on http://127.0.0.1:${info.port}/api/fal/proxy`);
});

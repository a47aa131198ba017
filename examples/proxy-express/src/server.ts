// FAL_KEY=... pnpm tsx src/server.ts   (KONTEXT_PROXY_TARGET=http://127.0.0.1:4010 to use `kontext-mock` instead of fal)
import { createApp } from "./app.js";

const target = process.env.KONTEXT_PROXY_TARGET;
const app = createApp(target ? { target: { queue: target, sync: `${target}/sync` } } : {});
const port = Number(process.env.PORT ?? 3000);
app.listen(port, "127.0.0.1", () => console.log(`proxy listening on http://127.0.0.1:${port}/api/fal/proxy`));

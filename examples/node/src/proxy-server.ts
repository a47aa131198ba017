// A tiny server that keeps the key: browsers call /api/fal/proxy, which forwards only the spec's
// Kontext operations, with the server's FAL_KEY, to fal (or KONTEXT_BASE_URL).
//   FAL_KEY=... pnpm tsx src/proxy-server.ts
import { createServer } from "node:http";
import { createKontextProxy, toNodeHandler } from "@kontext-sdk/client/proxy";
import { baseUrl } from "./config.js";

const proxy = toNodeHandler(
  createKontextProxy({
    basePath: "/api/fal/proxy",
    ...(baseUrl ? { target: { queue: baseUrl, sync: `${baseUrl}/sync` } } : {}),
  }),
);

const server = createServer((req, res) => {
  if (req.url?.startsWith("/api/fal/proxy")) return void proxy(req, res);
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  console.log(`proxy listening on http://127.0.0.1:${port}/api/fal/proxy`);
});

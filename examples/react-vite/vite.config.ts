import { createKontextProxy, toNodeHandler } from "@kontext-sdk/client/proxy";
import { startMockServer } from "@kontext-sdk/mocks/server";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * Dev-server only: the browser talks to `/api/fal/proxy` exactly as it would in production; here the proxy's
 * upstream is an in-process mock server instead of fal, so no key and no network are involved.
 * `/__kontext-mock/state` shows the mock's jobs and request log (the e2e test reads it); `POST
 * /__kontext-mock/reset` forgets them and `POST /__kontext-mock/fault` adds a fault rule (a JSON body, e.g.
 * `{"kind":"fail-at-result","status":422}`), so each e2e test starts from its own state.
 */
export function kontextMock(options: { stepMs?: number } = {}): Plugin {
  return {
    name: "kontext-mock",
    apply: "serve",
    async configureServer(server) {
      const upstream = await startMockServer({
        timeline: { queueSteps: 3, progressSteps: 4, stepMs: options.stepMs ?? 700 },
      });
      const proxy = toNodeHandler(
        createKontextProxy({
          // What a real deployment keeps in FAL_KEY; the mock accepts any key.
          credentials: "mock-key",
          target: { queue: upstream.url, sync: `${upstream.url}/sync` },
          basePath: "/api/fal/proxy",
        }),
      );
      server.middlewares.use("/api/fal/proxy", (req, res, next) => void proxy(req, res, next));
      server.middlewares.use("/__kontext-mock/reset", (req, res) => {
        if (req.method !== "POST") return void res.writeHead(405).end();
        upstream.mock.reset();
        res.writeHead(204).end();
      });
      server.middlewares.use("/__kontext-mock/fault", async (req, res) => {
        if (req.method !== "POST") return void res.writeHead(405).end();
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        upstream.mock.addFault(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(204).end();
      });
      server.middlewares.use("/__kontext-mock/state", (_req, res) => {
        const { mock } = upstream;
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            url: upstream.url,
            requests: mock.requests.map((r) => ({ method: r.method, path: r.path })),
            jobs: [...mock.jobs.values()].map((j) => ({
              requestId: j.requestId,
              endpoint: j.endpoint,
              state: j.state,
              cancelled: j.cancelled,
            })),
          }),
        );
      });
      server.httpServer?.once("close", () => void upstream.close());
    },
  };
}

export default defineConfig({
  plugins: [react(), kontextMock()],
});

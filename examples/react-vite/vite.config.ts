import { createKontextProxy, toNodeHandler } from "@kontext-sdk/client/proxy";
import { startMockServer } from "@kontext-sdk/mocks/server";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * Dev-server only: the browser talks to `/api/fal/proxy` exactly as it would in production; here the proxy's
 * upstream is an in-process mock server instead of fal, so no key and no network are involved.
 * With `storage` on, images above the client's `uploadThreshold` go to the mock's storage flow (initiate through
 * the proxy, the bytes PUT straight to the mock) instead of inline.
 * `/__kontext-mock/state` shows the mock's jobs and request log (method, path, operation, body size; the e2e
 * test reads it) and the files stored through uploads; `POST
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
          // Uploads of large images: the proxy serves only the initiate (with the key); the browser then PUTs
          // the bytes straight to the signed URL it answers, on the mock's own origin, as it would to fal's CDN.
          storage: { target: upstream.url },
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
            requests: mock.requests.map((r) => ({
              method: r.method,
              path: r.path,
              operation: r.operation,
              bodyBytes: r.bodyBytes,
              // Small JSON bodies whole (a submit that carries a file URL); large ones only by their size.
              ...(r.bodyBytes <= 4096 && !r.bodyTruncated ? { body: r.body } : {}),
            })),
            uploads: mock.uploads.map((f) => ({ fileUrl: f.fileUrl, contentType: f.contentType, size: f.size })),
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

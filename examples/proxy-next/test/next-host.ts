/**
 * What Next.js does with an App Router route module, reduced to the part the proxy relies on: call the
 * export named after the request's method with a web `Request` and `{ params }`, answer 405 when there is
 * none, and stream the `Response` back. Installing `next` itself (~150 MB with its compiler binaries) on
 * every CI install for this is not worth it; the route module is the real one.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { toNodeHandler } from "@kontext-sdk/client/proxy";

type RouteHandler = (request: Request, context: { params: Promise<{ path?: string[] }> }) => Promise<Response>;
export type RouteModule = Partial<Record<"GET" | "POST" | "PUT" | "DELETE" | "PATCH", RouteHandler>>;

export async function serveRoute(route: RouteModule, mount: string): Promise<{ origin: string; server: Server }> {
  const handle = toNodeHandler(async (request) => {
    const handler = route[request.method as keyof RouteModule];
    if (!handler) {
      const allow = Object.keys(route).filter((name) => /^[A-Z]+$/.test(name));
      return new Response(null, { status: 405, headers: { allow: allow.join(", ") } });
    }
    const rest = new URL(request.url).pathname.slice(mount.length).split("/").filter(Boolean);
    return handler(request, { params: Promise.resolve(rest.length ? { path: rest } : {}) });
  });
  const server = createServer((req, res) => {
    if (req.url === mount || req.url?.startsWith(`${mount}/`) || req.url?.startsWith(`${mount}?`)) return void handle(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The proxy on a real loopback socket, through the node adapter, for tests that drive it over HTTP. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createKontextProxy, type KontextProxyOptions, toNodeHandler } from "../../src/proxy.js";

export async function listen(options: KontextProxyOptions): Promise<{ url: string; server: Server }> {
  const handler = toNodeHandler(createKontextProxy(options));
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

export const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

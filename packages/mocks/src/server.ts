/**
 * @kontext-sdk/mocks/server — the simulator on node:http, for clients in other processes
 * (the CLI, a browser app, Prism in proxy mode). Every request is turned into a web
 * `Request`, answered by the mock's handler and written back; SSE bodies are streamed
 * chunk by chunk, and a connection-reset fault destroys the socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createKontextMock, isConnectionReset, type KontextMock, type KontextMockOptions } from "./mock.js";
import { rawBody } from "./responses.js";

export interface MockServerOptions extends KontextMockOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Serve an existing mock instead of creating one from the options. */
  mock?: KontextMock;
  /** Answer CORS preflights and allow any origin, for browser apps calling the server directly (default true). */
  cors?: boolean;
}

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "x-fal-request-id, x-fal-error-type, x-fal-retryable, retry-after",
};

export interface MockServer {
  /** Base URL, e.g. `http://127.0.0.1:4010`; the sync host is `${url}/sync`. */
  url: string;
  port: number;
  mock: KontextMock;
  /** Stops listening, drops open connections and cancels the mock's timers. */
  close(): Promise<void>;
}

export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const mock = options.mock ?? createKontextMock(options);
  const host = options.host ?? "127.0.0.1";
  const cors = options.cors ?? true;
  const server = createServer((req, res) => {
    if (cors && req.method === "OPTIONS") {
      // Preflights are the browser's business, not the API's: answered here and not recorded.
      res.writeHead(204, {
        ...CORS_HEADERS,
        "access-control-allow-methods": "GET, POST, PUT, OPTIONS",
        "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "authorization, content-type",
        "access-control-max-age": "600",
      });
      res.end();
      return;
    }
    void serve(mock, req, res, cors);
  });
  // SSE connections stay open; keep-alive sockets must not hold `close()` hostage.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    mock,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        mock.reset();
      }),
  };
}

async function serve(mock: KontextMock, req: IncomingMessage, res: ServerResponse, cors: boolean) {
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req).catch(() => undefined);
  const abort = new AbortController();
  // `close` on the response fires when the client goes away before we finished.
  res.on("close", () => {
    if (!res.writableFinished) abort.abort(new DOMException("The client disconnected", "AbortError"));
  });
  try {
    const request = toRequest(req, body, abort.signal);
    const response = await mock.handler(request);
    if (isConnectionReset(response)) {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = cors ? { ...CORS_HEADERS } : {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (!response.body || req.method === "HEAD") {
      res.writeHead(response.status, headers);
      res.end();
      await response.body?.cancel();
      return;
    }
    if (!headers["content-type"]?.startsWith("text/event-stream")) {
      // Plain bodies in one write: cheaper for the status polls that dominate real traffic.
      const raw = rawBody(response);
      const bytes = raw === undefined ? Buffer.from(await response.arrayBuffer()) : Buffer.from(raw);
      headers["content-length"] = String(bytes.length);
      res.writeHead(response.status, headers);
      res.end(bytes);
      return;
    }
    res.writeHead(response.status, headers);
    // Flush headers now: an SSE client must see the response before the first event.
    res.flushHeaders();
    const reader = response.body.getReader();
    abort.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!res.write(value)) await new Promise<void>((r) => res.once("drain", r));
      }
      res.end();
    } catch {
      // The body broke part-way (a stream-drop fault): the client must see a dropped connection, not a clean end.
      res.destroy();
    }
  } catch {
    if (abort.signal.aborted) return;
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail: "Internal server error", error_type: "internal_error" }));
    } else {
      res.destroy();
    }
  }
}

function toRequest(req: IncomingMessage, body: Buffer | undefined, signal: AbortSignal): Request {
  const host = req.headers.host ?? "127.0.0.1";
  const url = new URL(req.url ?? "/", `http://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return new Request(url, {
    method: req.method,
    headers,
    signal,
    ...(body ? { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) as BodyInit } : {}),
  });
}

/** Request bodies are small JSON documents: read them whole. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

import { refuse } from "./refusal.js";

// The shapes of node:http's IncomingMessage and ServerResponse that the adapter uses, written out
// rather than imported: the proxy entry re-exports this module, and edge runtimes (and projects
// without @types/node) must be able to load it and its types. Express's req/res fit too.

/** What the adapter reads from `http.IncomingMessage`. */
export interface IncomingMessage extends AsyncIterable<Uint8Array | string> {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  socket: unknown;
  complete: boolean;
  readableEnded: boolean;
  pause(): unknown;
  destroy(error?: Error): unknown;
}

/** What the adapter uses of `http.ServerResponse`. */
export interface ServerResponse {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  flushHeaders(): void;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  end(chunk: string): unknown;
  destroy(error?: Error): unknown;
  on(event: "close" | "drain" | "finish", listener: () => void): unknown;
  off(event: "close" | "drain" | "finish", listener: () => void): unknown;
}

export interface NodeHandlerOptions {
  /**
   * Build the request URL from `X-Forwarded-Proto` / `X-Forwarded-Host`. Only turn this on behind a
   * reverse proxy that sets them: the default same-origin check compares `Origin` with this URL.
   */
  trustProxy?: boolean;
}

/** `(req, res, next?)`, usable with `http.createServer` and as Express/Connect middleware. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

/**
 * Adapts a web-standard handler to `node:http`: the incoming message becomes a `Request` whose body
 * streams from the socket, and the `Response` body is written out as it arrives (server-sent events
 * are not held back). A client that disconnects aborts the request's signal. With Express, mount it
 * before any body parser, or it reuses `req.body` when a parser already consumed the stream.
 */
export function toNodeHandler(handler: (request: Request) => Promise<Response>, options: NodeHandlerOptions = {}): NodeHandler {
  return async (req, res, next) => {
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    let bodyAbandoned = false;
    let response: Response;
    const url = requestUrl(req, options);
    if (!url) {
      // Never handed to the handler: its URL would name another host, and rewritten URLs with it.
      await writeResponse(
        refuse(400, "proxy_bad_target", "bad_target", "the request target must be a path on this host"),
        res,
        true,
      );
      if (!req.complete) dropAfterAnswer(req, res);
      return;
    }
    try {
      const request = toRequest(req, url, abort.signal, () => {
        bodyAbandoned = true;
      });
      response = await handler(request);
    } catch (error) {
      if (next) return next(error);
      if (!res.headersSent) {
        await writeResponse(
          refuse(500, "proxy_internal_error", "internal_error", "the proxy failed to handle the request"),
          res,
          false,
        );
      }
      return;
    }
    await writeResponse(response, res, bodyAbandoned || !req.complete);
    // A body the handler refused midway (413) is still in flight; dropping the connection once the
    // answer has been flushed is cheaper than reading the rest of it.
    if (bodyAbandoned) dropAfterAnswer(req, res);
  };
}

/** Closes the connection once the answer has been flushed, instead of reading a refused body to its end. */
function dropAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (res.writableFinished) req.destroy();
  else res.on("finish", () => req.destroy());
}

/**
 * The request's absolute URL, or undefined when the request target is not a plain path on this host:
 * absolute-form (`POST http://evil.example/…`), protocol-relative (`//evil.example/…`, or `/\\evil…`,
 * which URL parsing also reads as a host) and garbage `Host` values are refused, so the URL the handler
 * sees, and every URL rewritten from it, names the host the request was sent to.
 */
function requestUrl(req: IncomingMessage, options: NodeHandlerOptions): URL | undefined {
  const forwarded = (name: string) => {
    const value = req.headers[name];
    return (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim() || undefined;
  };
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const protocol = (options.trustProxy && forwarded("x-forwarded-proto")) || (encrypted ? "https" : "http");
  const host = (options.trustProxy && forwarded("x-forwarded-host")) || req.headers.host || "localhost";
  // Express strips its mount path from req.url; originalUrl keeps what the client asked for.
  const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
  if (!path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return undefined;
  if (protocol !== "http" && protocol !== "https") return undefined;
  try {
    const origin = new URL(`${protocol}://${host}`);
    if (origin.pathname !== "/" || origin.username || origin.password || origin.search || origin.hash) return undefined;
    const url = new URL(path, origin);
    return url.origin === origin.origin ? url : undefined;
  } catch {
    return undefined;
  }
}

function toRequest(req: IncomingMessage, url: URL, signal: AbortSignal, onAbandon: () => void): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(":")) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  // The host the URL was built from (the forwarded one behind a trusted reverse proxy, whose own Host is
  // an internal name): the proxy's host check reads both, and they must agree.
  if (headers.has("host")) headers.set("host", url.host);

  const method = (req.method ?? "GET").toUpperCase();
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal };
  if (method !== "GET" && method !== "HEAD") {
    const parsed = (req as { body?: unknown }).body;
    if (parsed !== undefined && req.readableEnded) {
      // A body parser got there first; hand its result on as bytes.
      init.body = typeof parsed === "string" || parsed instanceof Uint8Array ? (parsed as BodyInit) : JSON.stringify(parsed);
      headers.delete("content-length");
    } else {
      init.body = streamFrom(req, onAbandon);
      init.duplex = "half";
    }
  }
  return new Request(url, init);
}

function streamFrom(req: IncomingMessage, onAbandon: () => void): ReadableStream<Uint8Array> {
  const iterator = req[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(typeof value === "string" ? encoder.encode(value) : new Uint8Array(value));
    },
    cancel() {
      // Not iterator.return(): that destroys the socket before the 413 can be written.
      req.pause();
      onAbandon();
    },
  });
}

async function writeResponse(response: Response, res: ServerResponse, closeAfter: boolean): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) res.setHeader("set-cookie", cookies);
  if (closeAfter) res.setHeader("connection", "close");
  if (!response.body) {
    res.end();
    return;
  }
  // Headers go out now, so an event stream's client sees the 200 before the first event.
  res.flushHeaders();
  const reader = response.body.getReader();
  const onClose = () => {
    reader.cancel().catch(() => {});
  };
  res.on("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const settle = () => {
            res.off("drain", settle);
            res.off("close", settle);
            resolve();
          };
          res.on("drain", settle);
          res.on("close", settle);
        });
      }
      if (res.destroyed) break;
    }
    res.end();
  } catch {
    // The upstream stream broke midway: cut the connection so the client sees an incomplete answer.
    res.destroy();
  } finally {
    res.off("close", onClose);
  }
}

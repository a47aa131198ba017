/**
 * @kontext-sdk/mocks/server — the simulator on node:http, for clients in other processes
 * (the CLI, a browser app, Prism in proxy mode). Every request is turned into a web
 * `Request`, answered by the mock's handler and written back; SSE bodies are streamed
 * chunk by chunk, and a connection-reset fault destroys the socket.
 *
 * The server runs on developers' machines, so its defaults are narrow: it binds loopback, answers
 * browsers only from localhost origins, refuses bodies over the cap (413) without keeping them, and
 * answers a request target or `Host` it cannot read with a 400.
 *
 * Bodies are held like nginx holds them (`client_body_buffer_size`, `client_body_temp_path`): the first
 * MiB in memory, the rest in a private temp file while it is counted (see body-spool.ts). So a refused
 * 100 MB body costs about 1 MiB, not the whole cap; a body under the cap is read back for the handler,
 * and its file is removed whatever happens (answered, refused, client gone, server closed).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { bodyTooLargeResponse, FAL_HEADERS, flatErrorResponse, readCapped } from "@kontext-sdk/schema/protocol";
import { MAX_BODY_BYTES } from "./body.js";
import { type BodyRead, BodySpools, readBody } from "./body-spool.js";
import { KontextMockError } from "./errors.js";
import { createKontextMock, isConnectionReset, type KontextMock, type KontextMockOptions } from "./mock.js";
import { badRequest, internalError } from "./responses.js";
import { isLoopbackHost } from "./webhook-delivery.js";

/**
 * Which browser origins may call the server: `"localhost"` (the default, also `true`) for loopback
 * origins on any port, `"*"` for any, a list of exact origins, or `false` for no CORS headers at all.
 * A request whose `Origin` is not allowed is refused with a 403, so a web page the developer happens to
 * visit cannot drive the mock (create jobs, trigger webhooks) through their browser.
 */
export type MockCors = boolean | "localhost" | "*" | readonly string[];

export interface MockServerOptions extends KontextMockOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Serve an existing mock instead of creating one from the options. */
  mock?: KontextMock;
  /** Browser origins allowed (default `"localhost"`); see `MockCors`. */
  cors?: MockCors;
  /**
   * `Host` names the server answers, like Vite's `allowedHosts`: a loopback-bound server (the default)
   * answers loopback names only (`localhost`, `127.0.0.0/8`, `[::1]`), so a DNS-rebound web page
   * (`Host: evil.example`) gets a 403; a server bound elsewhere answers any. A list adds names; `"*"` any.
   */
  allowedHosts?: readonly string[] | "*";
  /**
   * Where a request body over 1 MiB is spooled while it is read: a private directory (`mkdtemp`, 0700)
   * per body is made here and removed once the body is read or refused. Default `os.tmpdir()`.
   */
  spoolDir?: string;
}

const EXPOSED_HEADERS = [
  FAL_HEADERS.requestId,
  FAL_HEADERS.errorType,
  FAL_HEADERS.retryable,
  FAL_HEADERS.requestTimeoutType,
  "retry-after",
].join(", ");

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
  const policy = corsPolicy(options.cors ?? "localhost");
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const hostAllowed = hostPolicy(options.allowedHosts, host);
  const spools = new BodySpools(options.spoolDir);
  const server = createServer((req, res) => {
    const hostHeader = req.headers.host;
    if (hostHeader !== undefined && !hostAllowed(hostHeader)) {
      const refusal = flatErrorResponse(
        403,
        "the mock server does not answer this Host (see the allowedHosts option)",
        "host_not_allowed",
      );
      void send(req, res, refusal, {});
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !policy.allows(origin)) {
      // Not recorded: the request never reaches the API.
      void send(
        req,
        res,
        flatErrorResponse(
          403,
          `the mock server does not answer the origin ${origin} (see the cors option)`,
          "origin_not_allowed",
        ),
        {},
      );
      return;
    }
    const cors = policy.headers(origin);
    if (req.method === "OPTIONS" && policy.enabled) {
      // Preflights are the browser's business, not the API's: answered here and not recorded.
      res.writeHead(204, {
        ...cors,
        "access-control-allow-methods": "GET, POST, PUT, OPTIONS",
        "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "authorization, content-type",
        "access-control-max-age": "600",
      });
      res.end();
      return;
    }
    void serve(mock, req, res, cors, maxBodyBytes, spools);
  });
  // SSE connections stay open; keep-alive sockets must not hold `close()` hostage.
  server.keepAliveTimeout = 5_000;
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    mock,
    close: async () => {
      try {
        await new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
          mock.reset();
        });
      } finally {
        // Bodies cut off by the close leave no temp file behind.
        await spools.removeAll();
      }
    },
  };
}

interface CorsPolicy {
  enabled: boolean;
  allows(origin: string): boolean;
  /** The CORS headers for an allowed origin (none when CORS is off or the request has no Origin). */
  headers(origin: string | undefined): Readonly<Record<string, string>>;
}

/**
 * Listens on `port` at `host`, or rejects with a `KontextMockError` saying what went wrong in words
 * (port taken, not allowed, out of range, host not on this machine) instead of Node's bare
 * `listen EADDRINUSE` or `RangeError`, which callers (and the CLI) would otherwise surface as a stack trace.
 */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => reject(listenError(error, port, host));
    server.once("error", fail);
    try {
      server.listen(port, host, () => {
        server.off("error", fail);
        resolve();
      });
    } catch (error) {
      // A bad port (NaN, 70000) is thrown synchronously, before any "error" event.
      server.off("error", fail);
      fail(error);
    }
  });
}

/** The listen failure as a `KontextMockError` naming the option to change. */
function listenError(error: unknown, port: number, host: string): KontextMockError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${port} on ${host}`;
  const fail = (option: string, rule: string) => new KontextMockError(option, rule, "startMockServer", { cause: error });
  switch (code) {
    case "EADDRINUSE":
      return fail("port", `${where} is already in use (EADDRINUSE): pick another with port / --port`);
    case "EACCES":
      return fail("port", `${where} may not be opened by this user (EACCES): pick one above 1023 with port / --port`);
    case "ERR_SOCKET_BAD_PORT":
      return fail("port", `must be a whole number from 0 to 65535 (got ${port})`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return fail("host", `${host} is not an address of this machine (${code}): pick another with host / --host`);
    default: {
      const reason = error instanceof Error ? error.message : String(error);
      return fail("port", `${where} could not be listened on (${reason})`);
    }
  }
}

/** The CORS headers of a request that gets none; shared, as `send` only reads them. */
const NO_CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function corsPolicy(cors: MockCors): CorsPolicy {
  const anyOrigin = cors === "*";
  const listed = Array.isArray(cors) ? new Set(cors as readonly string[]) : undefined;
  const allows = memoized((origin) => anyOrigin || (listed ? listed.has(origin) : isLoopbackOrigin(origin)));
  const enabled = cors !== false;
  return {
    enabled,
    allows,
    headers(origin) {
      if (!enabled || origin === undefined) return NO_CORS_HEADERS;
      return {
        "access-control-allow-origin": anyOrigin ? "*" : origin,
        "access-control-expose-headers": EXPOSED_HEADERS,
        ...(anyOrigin ? {} : { vary: "origin" }),
      };
    },
  };
}

/** Whether a `Host` header names a host the server answers. Unreadable ones pass here and get their 400 later. */
function hostPolicy(allowed: readonly string[] | "*" | undefined, boundTo: string): (hostHeader: string) => boolean {
  const loopbackBound = isLoopbackHost(boundTo);
  if (allowed === "*" || (allowed === undefined && !loopbackBound)) return () => true;
  const extra = new Set((allowed ?? []).map((name) => name.toLowerCase()));
  return memoized((hostHeader) => {
    let url: URL;
    try {
      url = new URL(`http://${hostHeader}`);
    } catch {
      return true;
    }
    if (url.host.toLowerCase() !== hostHeader.toLowerCase()) return true;
    return isLoopbackHost(url.hostname) || extra.has(url.hostname.toLowerCase());
  });
}

/** How many distinct `Host` / `Origin` values a policy remembers its answer for. */
const MEMO_ENTRIES = 64;

/**
 * `decide` with its answers remembered. A client sends the same `Host` (and `Origin`) on every request,
 * so the URL parse behind each answer is done once per value instead of once per request. The memory is
 * bounded (forgotten whole when full), so a client sending ever-new values cannot grow it; the answers are
 * the same either way.
 */
function memoized(decide: (value: string) => boolean): (value: string) => boolean {
  const answers = new Map<string, boolean>();
  return (value) => {
    let answer = answers.get(value);
    if (answer === undefined) {
      answer = decide(value);
      if (answers.size >= MEMO_ENTRIES) answers.clear();
      answers.set(value, answer);
    }
    return answer;
  };
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

async function serve(
  mock: KontextMock,
  req: IncomingMessage,
  res: ServerResponse,
  cors: Readonly<Record<string, string>>,
  maxBodyBytes: number,
  spools: BodySpools,
) {
  const url = requestUrl(req);
  if (!url) return send(req, res, badRequest("the request target or Host header is not a valid URL"), cors);
  // Upload bytes stream into the storage simulator, which reads them through its own (larger) cap:
  // buffered here, a 200 MB photo would sit in memory twice and meet the JSON body cap.
  const streamed = UPLOAD_PATH.test(url.pathname) && req.method !== "GET" && req.method !== "HEAD";
  const body: BodyRead | { ok: true; bytes?: undefined } =
    req.method === "GET" || req.method === "HEAD" || streamed ? { ok: true } : await readBody(req, maxBodyBytes, spools);
  if (!body.ok) {
    // A client that left mid-body is owed nothing (and the mock records nothing).
    if (body.reason === "aborted") return;
    // The same 413 the handler gives a body over its cap, answered before the mock sees (or records) it.
    // The rest of the body is drained and dropped (never kept), so the client, still sending, gets to
    // read the answer instead of a reset; a sender that goes on past four times the cap is cut off.
    discardRest(req, maxBodyBytes * 4);
    const refusal = body.reason === "too-large" ? bodyTooLargeResponse(maxBodyBytes) : internalError();
    await send(req, res, refusal, cors);
    return;
  }
  const abort = new AbortController();
  // `close` on the response fires when the client goes away before we finished.
  res.on("close", () => {
    if (!res.writableFinished) abort.abort(new DOMException("The client disconnected", "AbortError"));
  });
  try {
    const response = await mock.handler(toRequest(req, url, streamed ? req : body.bytes, abort));
    if (isConnectionReset(response)) {
      req.socket.destroy();
      return;
    }
    await send(req, res, response, cors, abort);
  } catch {
    if (abort.signal.aborted) return;
    if (!res.headersSent) await send(req, res, internalError(), cors);
    else res.destroy();
  }
}

/**
 * Writes a web `Response`: plain bodies in one write, event streams chunk by chunk as they come (and
 * cancelled when `disconnect` aborts: the client went away).
 */
async function send(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
  cors: Readonly<Record<string, string>>,
  disconnect?: AbortController,
) {
  const headers: Record<string, string> = { ...cors };
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
    const bytes = await readAll(response.body);
    headers["content-length"] = String(bytes.length);
    res.writeHead(response.status, headers);
    res.end(bytes);
    return;
  }
  res.writeHead(response.status, headers);
  // Flush headers now: an SSE client must see the response before the first event.
  res.flushHeaders();
  const reader = response.body.getReader();
  disconnect?.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((resolve) => res.once("drain", resolve));
    }
    res.end();
  } catch {
    // The body broke part-way (a stream-drop fault): the client must see a dropped connection, not a clean end.
    res.destroy();
  }
}

/**
 * A plain body (the mock's own answer, so uncapped) as one buffer, read from its stream with the core's
 * reader rather than with `arrayBuffer()`: the bytes are the same, and on Node 20 undici's `arrayBuffer()`
 * costs about four times as much (≈ 25 µs against 6 µs for a status poll's body).
 */
async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const read = await readCapped(body, Number.POSITIVE_INFINITY);
  const bytes = read.ok ? read.bytes : new Uint8Array(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The request's URL, or undefined when the target or `Host` cannot be read. Only origin-form targets
 * (`/path?query`) are taken: a protocol-relative (`//evil.example/…`) or absolute target would put
 * another host into the URLs the mock answers with.
 */
function requestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? "/";
  if (!target.startsWith("/") || target.startsWith("//")) return undefined;
  const host = req.headers.host ?? "127.0.0.1";
  try {
    const url = new URL(`http://${host}${target}`);
    // A Host with a path, userinfo or query in it is not a host.
    return url.host.toLowerCase() === host.toLowerCase() ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Signed upload URLs of the storage flow (`/storage/uploads/{token}[/{part}|/complete]`). */
const UPLOAD_PATH = /\/storage\/uploads\//;

/**
 * A `Request` whose `signal` is the one of its connection (`disconnect`, aborted when the client goes away
 * before its answer is written). Handed to `new Request({ signal })` instead, that signal would be followed
 * by a second one undici makes for every request (a WeakRef, an abort listener and a FinalizationRegistry
 * entry each time): on a status poll that costs more than the rest of the Request. Here the signal is
 * made only if the handler reads it (the stream, a latency fault), and a clone answers to the same one.
 */
class ConnectionRequest extends Request {
  readonly #disconnect: AbortController;

  constructor(input: URL | Request, init: RequestInit | undefined, disconnect: AbortController) {
    super(input, init);
    this.#disconnect = disconnect;
  }

  override get signal(): AbortSignal {
    return this.#disconnect.signal;
  }

  override clone(): Request {
    return new ConnectionRequest(super.clone(), undefined, this.#disconnect);
  }
}

function toRequest(
  req: IncomingMessage,
  url: URL,
  body: Buffer | IncomingMessage | undefined,
  disconnect: AbortController,
): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  if (body === req) {
    // A streamed body: `duplex: "half"` is how fetch's Request takes a stream.
    const stream = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    return new ConnectionRequest(url, { method: req.method, headers, body: stream, duplex: "half" } as RequestInit, disconnect);
  }
  const bytes = body as Buffer | undefined;
  const init: RequestInit = {
    method: req.method,
    headers,
    ...(bytes ? { body: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as BodyInit } : {}),
  };
  return new ConnectionRequest(url, init, disconnect);
}

/** Reads and drops what is left of a refused body; destroys the connection past `limit` more bytes. */
function discardRest(req: IncomingMessage, limit: number): void {
  let dropped = 0;
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > limit) req.socket.destroy();
  });
  req.resume();
}

import {
  type EndpointId,
  endpoints,
  INPUT_LIMITS,
  isEndpointId,
  QUEUE_BASE_URL,
  SYNC_BASE_URL,
  validateInput,
} from "@kontext-sdk/schema";
import {
  bodyTooLargeResponse,
  FAL_HEADERS,
  flatErrorResponse,
  parseJsonBounded,
  pointerToLoc,
  redact,
  unreadableBodyResponse,
  validationErrorResponse,
} from "@kontext-sdk/schema/protocol";
import { type AuthorizeRequest, sameOrigin } from "./authorize.js";
import { readLimited, readTextCapped } from "./body.js";
import {
  ALL_APP_PATHS,
  filterQuery,
  type HostKind,
  isSafeRequestId,
  matchOperation,
  type Operation,
  queuePath,
} from "./operations.js";

/** The header fal's clients use to name the real URL when they talk to a proxy. */
export const TARGET_URL_HEADER = FAL_HEADERS.targetUrl;

/** 20 MiB: room for a few data-URI images (base64 adds a third) on the multi-image endpoints. */
export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

/** Where the proxy sends requests. `sync: false` (or leaving it out of an object) disables sync runs. */
export interface ProxyTarget {
  /** Base URL of the queue API, e.g. `https://queue.fal.run` or a fal-compatible gateway. */
  queue: string;
  /** Base URL of the synchronous API, e.g. `https://fal.run`; omit or `false` to refuse sync runs. */
  sync?: string | false;
}

export interface KontextProxyOptions {
  /**
   * The server's fal key (or gateway token), or a function returning it, called per request (after
   * `authorize`) with that request, so keys can rotate or differ by tenant.
   * Default: `FAL_KEY`, else `FAL_KEY_ID:FAL_KEY_SECRET`, from `process.env`.
   */
  credentials?: string | ((request: Request) => string | undefined | Promise<string | undefined>);
  /** `Authorization` scheme sent upstream: `Key` for fal (default), `Bearer` for gateways. */
  authScheme?: "Key" | "Bearer";
  /**
   * Where requests really go. Default `{ queue: "https://queue.fal.run", sync: "https://fal.run" }`.
   * A string is a queue base URL (sync runs are then refused unless you pass `{ queue, sync }`).
   * `x-fal-target-url` may name fal's own hosts or these bases; either way the request is sent here,
   * so fal's hosts are effectively mapped onto your target (a gateway, or a mock server in tests).
   */
  target?: string | ProxyTarget;
  /** Endpoint ids that may be submitted or run. Default: all six Kontext endpoints of the spec. */
  allow?: readonly EndpointId[];
  /**
   * Who may use the proxy. Default: same-origin browser requests only (see `isSameOriginRequest`),
   * which refuses requests that carry neither `Origin` nor `Sec-Fetch-Site`. Plug your session check here.
   */
  authorize?: AuthorizeRequest;
  /** Extra origins the default `authorize` accepts (ignored when you pass your own `authorize`). */
  allowedOrigins?: readonly string[];
  /**
   * A second check once the proxy knows what the request asks for (after `authorize`, before the body is
   * read or upstream called): per-endpoint rules, quotas, or, with `onSubmitted`, letting only the user
   * who submitted a job see its status and result or cancel it. Same answers as `authorize`.
   */
  authorizeOperation?: (operation: Operation, request: Request) => boolean | Response | Promise<boolean | Response>;
  /**
   * Called when upstream has accepted a queue submit, with its request id, before the answer goes back:
   * record who owns the job. If it throws, the error goes to `onError` and the answer still goes back
   * (the job exists either way; hiding its id would only lose it).
   */
  onSubmitted?: (requestId: string, request: Request) => void | Promise<void>;
  /** Largest request body accepted, in bytes; bigger ones get 413. Default 20 MiB. */
  maxBodyBytes?: number;
  /** The `fetch` used to call upstream. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * The path the proxy is mounted at, e.g. `/api/fal/proxy`. Needed only to read direct paths
   * unambiguously (`{basePath}/fal-ai/flux-pro/...`); by default it is found from the path itself.
   */
  basePath?: string;
  /** The URL browsers reach the proxy at, used in rewritten `status_url`s (default: from the request). */
  publicUrl?: string;
  /** A webhook URL the proxy adds (`fal_webhook`) to every queue submit. */
  webhookUrl?: string;
  /**
   * Whether callers may choose their own `fal_webhook`. Default `false`: fal would POST results to any
   * URL a browser names. A function can vet the URL.
   */
  allowClientWebhooks?: boolean | ((url: string, request: Request) => boolean | Promise<boolean>);
  /**
   * Called with unexpected errors (a throwing `authorize` or `credentials`, an unreachable upstream)
   * before the caller gets a generic 500/502. For your logs; the key may appear in a fetch error, so scrub before shipping them.
   */
  onError?: (error: unknown, request: Request) => void;
}

/** A web-standard request handler. */
export type KontextProxyHandler = (request: Request) => Promise<Response>;

// Request headers worth forwarding: the content negotiation pair and fal's own `x-fal-*` options,
// minus anything that could carry a credential or re-target the request.
const FORWARDED_REQUEST_HEADERS = new Set(["content-type", "accept"]);
const SENSITIVE_HEADER = /auth|token|key|secret|cookie|session|jwt|signature|target-url/;
// Response headers a browser may see. Hop-by-hop, length and encoding headers are left to the
// runtime (the body may be rewritten or decompressed), cookies and server details never leave.
const FORWARDED_RESPONSE_HEADERS = [
  "content-type",
  "cache-control",
  "retry-after",
  "x-fal-request-id",
  "x-fal-error-type",
  "x-fal-retryable",
  "x-fal-request-timeout-type",
];
const MAX_BUFFERED_RESPONSE_BYTES = 1024 * 1024;
const URL_FIELDS = { status_url: "status", response_url: "result", cancel_url: "cancel" } as const;

interface Resolved {
  op: Operation;
  upstream: URL;
  /** The absolute URL of the proxy mount, for rewritten URLs. */
  mount: string;
  /** The caller's `fal_webhook`, if any. */
  webhook: string | null;
}

interface Base {
  host: HostKind;
  url: URL;
  /** Pathname without a trailing slash ("" for the root). */
  path: string;
}

/**
 * Creates a proxy that lets browser code use the Kontext endpoints without holding the key.
 * It forwards only the spec's operations on allowed endpoints, validates submitted inputs,
 * caps body sizes, replaces the caller's `Authorization` with the server's key and forwards
 * only harmless headers. Works with `@fal-ai/client`'s `proxyUrl` (`x-fal-target-url`) and with
 * direct paths (`{mount}/fal-ai/flux-pro/...`, sync runs at `{mount}/sync/fal-ai/...`).
 */
export function createKontextProxy(options: KontextProxyOptions = {}): KontextProxyHandler {
  const allowed = new Set<EndpointId>();
  for (const id of options.allow ?? (Object.keys(endpoints) as EndpointId[])) {
    if (!isEndpointId(id)) throw new TypeError(`createKontextProxy: allow lists an unknown endpoint id ${JSON.stringify(id)}`);
    allowed.add(id);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(maxBodyBytes >= 0)) throw new TypeError("createKontextProxy: maxBodyBytes must be a non-negative number");
  const authScheme = options.authScheme ?? "Key";
  const authorize = options.authorize ?? sameOrigin({ allowedOrigins: options.allowedOrigins ?? [] });
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const basePath = options.basePath === undefined ? undefined : trimSlash(options.basePath);
  // The browser only ever sees a generic message; the operator gets the real error here.
  const report = (error: unknown, request: Request) => {
    try {
      options.onError?.(error, request);
    } catch {}
  };

  const target: ProxyTarget =
    options.target === undefined
      ? { queue: QUEUE_BASE_URL, sync: SYNC_BASE_URL }
      : typeof options.target === "string"
        ? { queue: options.target }
        : options.target;
  const queueBase = toBase("queue", target.queue);
  const syncBase = target.sync ? toBase("sync", target.sync) : undefined;
  // Bases a caller may name in x-fal-target-url. fal's hosts are accepted because @fal-ai/client
  // always names them; they are mapped onto the configured target, never contacted otherwise.
  // The longest path wins so a sync base nested under the queue base (`{mock}/sync`) is found first.
  const namedBases: Base[] = [toBase("queue", QUEUE_BASE_URL), queueBase];
  if (syncBase) namedBases.push(toBase("sync", SYNC_BASE_URL), syncBase);
  namedBases.sort((a, b) => b.path.length - a.path.length);

  async function resolve(request: Request, requestUrl: URL): Promise<Resolved | Response> {
    const method = request.method.toUpperCase();
    const header = request.headers.get(TARGET_URL_HEADER);
    if (header !== null) {
      let named: URL;
      try {
        named = new URL(header);
      } catch {
        return fail(400, "proxy_bad_target", `${TARGET_URL_HEADER} is not an absolute URL`);
      }
      if (named.username || named.password)
        return fail(400, "proxy_bad_target", `${TARGET_URL_HEADER} must not carry credentials`);
      let hostMatched = false;
      for (const base of namedBases) {
        const rest = relativeTo(named, base);
        if (rest === undefined) continue;
        hostMatched = true;
        const op = matchOperation(method, rest || "/", base.host, allowed);
        if (!op) continue;
        const mount = options.publicUrl
          ? trimSlash(options.publicUrl)
          : `${requestUrl.origin}${basePath ?? trimSlash(requestUrl.pathname)}`;
        return withUpstream(op, base.host, named.searchParams, mount);
      }
      if (!hostMatched)
        return fail(403, "proxy_target_not_allowed", `${TARGET_URL_HEADER} names a host this proxy does not serve`);
      return notAllowed(method);
    }

    // Direct paths: {mount}/{queue path} or {mount}/sync/{endpoint id}.
    const pathname = requestUrl.pathname;
    let mountPath: string | undefined;
    let rest: string | undefined;
    if (basePath !== undefined) {
      if (pathname === basePath || pathname.startsWith(`${basePath}/`)) {
        mountPath = basePath;
        rest = pathname.slice(basePath.length);
      }
    } else {
      // Without a configured mount, the spec's own app paths mark where the operation starts.
      let at = -1;
      for (const appPath of ALL_APP_PATHS) {
        const i = pathname.indexOf(`/${appPath}/`);
        if (i !== -1 && (at === -1 || i < at)) at = i;
      }
      if (at !== -1) {
        mountPath = pathname.slice(0, at);
        rest = pathname.slice(at);
        if (mountPath.endsWith("/sync")) {
          mountPath = mountPath.slice(0, -"/sync".length);
          rest = `/sync${rest}`;
        }
      }
    }
    if (mountPath === undefined || rest === undefined) return notAllowed(method);
    let host: HostKind = "queue";
    if (rest.startsWith("/sync/")) {
      if (!syncBase) return fail(403, "proxy_operation_not_allowed", "sync runs are not enabled on this proxy");
      host = "sync";
      rest = rest.slice("/sync".length);
    }
    const op = matchOperation(method, rest, host, allowed);
    if (!op) return notAllowed(method);
    const mount = options.publicUrl ? trimSlash(options.publicUrl) : `${requestUrl.origin}${mountPath}`;
    return withUpstream(op, host, requestUrl.searchParams, mount);
  }

  function withUpstream(op: Operation, host: HostKind, query: URLSearchParams, mount: string): Resolved | Response {
    const base = host === "sync" ? syncBase : queueBase;
    if (!base) return fail(403, "proxy_operation_not_allowed", "sync runs are not enabled on this proxy");
    const path = op.kind === "submit" || op.kind === "run" ? `/${op.endpoint}` : queuePath(op.appPath, op.requestId, op.kind);
    const upstream = new URL(base.url.href);
    upstream.pathname = `${base.path}${path}`;
    upstream.search = filterQuery(op.kind, query).toString();
    const webhook = op.kind === "submit" ? query.get("fal_webhook") : null;
    return { op, upstream, mount, webhook };
  }

  return async function kontextProxy(request: Request): Promise<Response> {
    try {
      const method = request.method.toUpperCase();
      if (method !== "GET" && method !== "POST" && method !== "PUT") {
        return fail(405, "proxy_operation_not_allowed", `${method} is not an operation of this API`, { allow: "GET, POST, PUT" });
      }
      const requestUrl = new URL(request.url);

      const verdict = await authorize(request);
      if (verdict instanceof Response) return verdict;
      if (verdict !== true) return fail(403, "proxy_forbidden", "this request is not allowed to use the proxy");

      const resolved = await resolve(request, requestUrl);
      if (resolved instanceof Response) return resolved;
      const { op, upstream, mount } = resolved;

      if (options.authorizeOperation) {
        const allowedOp = await options.authorizeOperation(op, request);
        if (allowedOp instanceof Response) return allowedOp;
        if (allowedOp !== true) return fail(403, "proxy_forbidden", "this request is not allowed this operation");
      }

      if (op.kind === "submit") {
        if (resolved.webhook !== null) {
          const policy = options.allowClientWebhooks ?? false;
          const ok = typeof policy === "function" ? await policy(resolved.webhook, request) : policy;
          if (ok !== true) return fail(403, "proxy_webhook_not_allowed", "fal_webhook may not be set through this proxy");
          upstream.searchParams.set("fal_webhook", resolved.webhook);
        }
        if (options.webhookUrl !== undefined) upstream.searchParams.set("fal_webhook", options.webhookUrl);
      }

      let body: string | undefined;
      if (op.kind === "submit" || op.kind === "run") {
        const checked = await readInput(request, op.endpoint, maxBodyBytes);
        if (checked instanceof Response) return checked;
        body = checked;
      }

      // Resolved last, so a refused or invalid request never reaches a secret store.
      const credentials = await resolveCredentials(options.credentials, request);
      if (!credentials) return fail(500, "proxy_misconfigured", "the proxy has no credentials configured");

      const headers = forwardRequestHeaders(request.headers, op);
      headers.set("authorization", `${authScheme} ${credentials}`);
      if (body !== undefined) headers.set("content-type", "application/json");

      let upstreamResponse: Response;
      try {
        upstreamResponse = await fetchImpl(upstream.href, {
          method,
          headers,
          body,
          signal: request.signal,
          // A redirect would carry the key to wherever upstream points; fal's API never redirects.
          redirect: "manual",
        });
      } catch (error) {
        if (request.signal?.aborted) throw error;
        report(error, request);
        return fail(502, "proxy_upstream_unreachable", "the upstream API could not be reached");
      }
      const answer = await relay(upstreamResponse, op, mount, credentials);
      if (op.kind === "submit" && answer.ok && options.onSubmitted) {
        try {
          const { request_id } = (await answer.clone().json()) as { request_id?: unknown };
          if (typeof request_id === "string") await options.onSubmitted(request_id, request);
        } catch (error) {
          report(error, request);
        }
      }
      return answer;
    } catch (error) {
      if (request.signal?.aborted) return new Response(null, { status: 499 });
      report(error, request);
      return fail(500, "proxy_internal_error", "the proxy failed to handle the request");
    }
  };
}

/** Reads, size-checks, parses and validates a submit or run body; answers like fal when it is wrong. */
async function readInput(request: Request, endpoint: EndpointId, maxBodyBytes: number): Promise<string | Response> {
  const contentType = request.headers.get("content-type");
  if (contentType !== null && !/^application\/(.+\+)?json\s*(;|$)/i.test(contentType)) {
    await request.body?.cancel().catch(() => {});
    return fail(415, "proxy_unsupported_media_type", "the request body must be application/json");
  }
  const read = await readLimited(request, maxBodyBytes);
  if (!read.ok) return bodyTooLargeResponse(maxBodyBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(read.bytes);
  } catch {
    return unreadableBodyResponse({ reason: "invalid", message: "the request body is not valid UTF-8" });
  }
  const parsed = parseJsonBounded(text, INPUT_LIMITS.maxJsonDepth);
  if (!parsed.ok) return unreadableBodyResponse(parsed);
  const input = parsed.value;
  const result = validateInput(endpoint, input);
  if (!result.ok) {
    return validationErrorResponse(
      result.issues.map((issue) => ({ loc: ["body", ...pointerToLoc(issue.path)], msg: issue.message, type: issue.rule })),
    );
  }
  // What was validated is what is sent: re-serialising drops duplicate keys and other parser quirks
  // that could make upstream see a different value than the one checked here.
  return JSON.stringify(input);
}

function forwardRequestHeaders(incoming: Headers, op: Operation): Headers {
  const headers = new Headers();
  incoming.forEach((value, name) => {
    if (FORWARDED_REQUEST_HEADERS.has(name) || (name.startsWith("x-fal-") && !SENSITIVE_HEADER.test(name.slice(6)))) {
      headers.set(name, value);
    }
  });
  // Only submits and runs have a body; a stray content-type on a GET means nothing upstream.
  if (op.kind !== "submit" && op.kind !== "run") headers.delete("content-type");
  return headers;
}

/** Turns the upstream answer into the browser's answer: safe headers, rewritten URLs, redacted errors. */
async function relay(upstream: Response, op: Operation, mount: string, credentials: string): Promise<Response> {
  if (upstream.status >= 300 && upstream.status < 400) {
    await upstream.body?.cancel().catch(() => {});
    return fail(502, "proxy_upstream_redirect", "the upstream API answered with a redirect, which the proxy does not follow");
  }
  const headers = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const ok = upstream.status >= 200 && upstream.status < 300;
  const rewrites = ok && (op.kind === "submit" || op.kind === "status");
  if (!ok || rewrites) {
    // Small bodies, read in full: error bodies are scrubbed of the key in case upstream echoes it,
    // submit and status answers get their URLs pointed back at the proxy.
    let text = redact(await readTextCapped(upstream.body, MAX_BUFFERED_RESPONSE_BYTES), [credentials]);
    if (rewrites) text = rewriteUrls(text, op, mount);
    return new Response(text, { status: upstream.status, headers });
  }
  if (op.kind === "stream" && upstream.body) {
    // These ask intermediaries not to buffer the event stream either.
    if (!headers.has("cache-control")) headers.set("cache-control", "no-cache");
    headers.set("x-accel-buffering", "no");
    return new Response(upstream.body.pipeThrough(rewriteEventUrls(op, mount)), { status: upstream.status, headers });
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}

/**
 * Rewrites the URLs inside each `data:` line of the status stream, line by line: every complete line
 * goes out as soon as its newline arrives, so an event is never held back past its own end.
 * A stream that does not look like `\n`-separated server-sent events is passed through untouched.
 */
function rewriteEventUrls(op: Operation, mount: string): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  let passthrough = false;
  return new TransformStream({
    transform(chunk, controller) {
      if (passthrough) return controller.enqueue(chunk);
      pending += decoder.decode(chunk, { stream: true });
      const end = pending.lastIndexOf("\n");
      if (end === -1) {
        // No line break yet: a lone-CR stream or a huge line. Stop rewriting rather than hold bytes back.
        if (pending.includes("\r") || pending.length > MAX_BUFFERED_RESPONSE_BYTES) {
          passthrough = true;
          controller.enqueue(encoder.encode(pending));
          pending = "";
        }
        return;
      }
      const lines = pending.slice(0, end + 1);
      pending = pending.slice(end + 1);
      controller.enqueue(
        encoder.encode(lines.replace(/^data:(.*)$/gm, (line, data: string) => rewriteDataLine(line, data, op, mount))),
      );
    },
    flush(controller) {
      const rest = pending + decoder.decode();
      if (rest) controller.enqueue(encoder.encode(rest));
    },
  });
}

function rewriteDataLine(line: string, data: string, op: Operation, mount: string): string {
  const carriageReturn = data.endsWith("\r") ? "\r" : "";
  const json = data.slice(data.startsWith(" ") ? 1 : 0, data.length - carriageReturn.length);
  if (!json.startsWith("{") || !/"(status|response|cancel)_url"/.test(json)) return line;
  return `data: ${rewriteUrls(json, op, mount)}${carriageReturn}`;
}

function rewriteUrls(text: string, op: Operation, mount: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return text;
  const record = body as Record<string, unknown>;
  const requestId = isSafeRequestId(record.request_id) ? record.request_id : "requestId" in op ? op.requestId : undefined;
  // URLs are rebuilt from the registry's app path and the request id rather than edited, so
  // whatever host upstream named (gateways name fal's), the browser only ever sees the proxy.
  for (const [field, kind] of Object.entries(URL_FIELDS)) {
    if (!(field in record)) continue;
    if (requestId === undefined) delete record[field];
    else record[field] = `${mount}${queuePath(op.appPath, requestId, kind)}`;
  }
  return JSON.stringify(record);
}

async function resolveCredentials(option: KontextProxyOptions["credentials"], request: Request): Promise<string | undefined> {
  if (typeof option === "function") return (await option(request)) || undefined;
  if (typeof option === "string") return option || undefined;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (!env) return undefined;
  if (env.FAL_KEY) return env.FAL_KEY;
  if (env.FAL_KEY_ID && env.FAL_KEY_SECRET) return `${env.FAL_KEY_ID}:${env.FAL_KEY_SECRET}`;
  return undefined;
}

function toBase(host: HostKind, href: string): Base {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw new TypeError(`createKontextProxy: target ${JSON.stringify(href)} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`createKontextProxy: target ${JSON.stringify(href)} must be an http(s) URL`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError(`createKontextProxy: target ${JSON.stringify(href)} must not have credentials, a query or a hash`);
  }
  return { host, url, path: trimSlash(url.pathname) };
}

/** The part of `url`'s path under `base`, or undefined when `url` is not under it. */
function relativeTo(url: URL, base: Base): string | undefined {
  if (url.origin !== base.url.origin) return undefined;
  if (base.path === "") return url.pathname;
  if (url.pathname === base.path) return "";
  return url.pathname.startsWith(`${base.path}/`) ? url.pathname.slice(base.path.length) : undefined;
}

const trimSlash = (s: string) => s.replace(/\/+$/, "");

function notAllowed(method: string): Response {
  return fail(403, "proxy_operation_not_allowed", `${method} on this path is not an allowed operation`);
}

/** A fal-shaped flat error, `{detail, error_type}`, with the type also in `x-fal-error-type`. */
function fail(status: number, errorType: string, detail: string, extra: Record<string, string> = {}): Response {
  return flatErrorResponse(status, detail, errorType, extra);
}

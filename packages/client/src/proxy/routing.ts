/**
 * Routing: which operation a request asks for, and the upstream URL it maps to. Two request shapes are
 * understood, fal's proxy protocol (`x-fal-target-url`) and direct paths under the mount; both end in
 * the same allowlist of the spec's operations (`matchOperation`). Storage initiates are recognised even
 * when storage is off, so they get a refusal that says how to turn it on rather than a generic one.
 */
import { STORAGE_BASE_URL } from "@kontext-sdk/schema";
import { FAL_QUERY, initiatePath, joinUrl, requestPath } from "@kontext-sdk/schema/protocol";
import { type Base, type ProxyConfig, trimSlash } from "./config.js";
import {
  ALL_APP_PATHS,
  filterQuery,
  type HostKind,
  initiateSuffixOf,
  matchInitiate,
  matchOperation,
  type Operation,
} from "./operations.js";
import { TARGET_URL_HEADER } from "./options.js";
import { notAllowed, refuse, storageNotAllowed } from "./refusal.js";

const FAL_STORAGE_ORIGIN = new URL(STORAGE_BASE_URL).origin;

/** A request the proxy recognised. */
export interface Route {
  operation: Operation;
  upstream: URL;
  /** The absolute URL of the proxy mount, for rewritten URLs. */
  mount: string;
  /** The caller's `fal_webhook`, if any. */
  webhook: string | null;
}

/** The route of a request, or the refusal to send back. */
export function resolveRoute(config: ProxyConfig, request: Request, requestUrl: URL): Route | Response {
  const header = request.headers.get(TARGET_URL_HEADER);
  return header === null ? routeDirectPath(config, request, requestUrl) : routeTargetHeader(config, request, requestUrl, header);
}

/** fal's proxy protocol: the real URL in `x-fal-target-url`, on fal's hosts or the configured bases. */
function routeTargetHeader(config: ProxyConfig, request: Request, requestUrl: URL, header: string): Route | Response {
  const method = request.method.toUpperCase();
  let named: URL;
  try {
    named = new URL(header);
  } catch {
    return refuse(400, "proxy_bad_target", "bad_target", `${TARGET_URL_HEADER} is not an absolute URL`);
  }
  if (named.username || named.password) {
    return refuse(400, "proxy_bad_target", "bad_target", `${TARGET_URL_HEADER} must not carry credentials`);
  }
  let hostMatched = false;
  for (const base of config.namedBases) {
    const rest = relativeTo(named, base);
    if (rest === undefined) continue;
    hostMatched = true;
    const operation = matchOperation(method, rest || "/", base.host, config.allowed);
    if (!operation) continue;
    const mount = mountUrl(config, requestUrl, config.basePath ?? trimSlash(requestUrl.pathname));
    return withUpstream(config, operation, base.host, named.searchParams, mount);
  }
  if (!config.storage && namesInitiate(config, named)) return storageNotAllowed();
  if (!hostMatched) {
    return refuse(
      403,
      "proxy_target_not_allowed",
      "target_not_allowed",
      `${TARGET_URL_HEADER} names a host this proxy does not serve`,
    );
  }
  return notAllowed(method);
}

/** Direct paths: `{mount}/{queue path}` or `{mount}/sync/{endpoint id}`. */
function routeDirectPath(config: ProxyConfig, request: Request, requestUrl: URL): Route | Response {
  const method = request.method.toUpperCase();
  const split = splitMount(config.basePath, requestUrl.pathname);
  if (!split) return notAllowed(method);
  let rest = split.rest;
  let host: HostKind = "queue";
  if (matchInitiate(rest)) {
    if (!config.storage) return storageNotAllowed();
    host = "storage";
  } else if (rest.startsWith("/sync/")) {
    if (!config.syncBase)
      return refuse(403, "proxy_operation_not_allowed", "sync_disabled", "sync runs are not enabled on this proxy");
    host = "sync";
    rest = rest.slice("/sync".length);
  }
  const operation = matchOperation(method, rest, host, config.allowed);
  if (!operation) return notAllowed(method);
  return withUpstream(config, operation, host, requestUrl.searchParams, mountUrl(config, requestUrl, split.mountPath));
}

/** The mount path and the operation's path after it; without a configured mount, the spec's app paths mark it. */
function splitMount(basePath: string | undefined, pathname: string): { mountPath: string; rest: string } | undefined {
  if (basePath !== undefined) {
    if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined;
    return { mountPath: basePath, rest: pathname.slice(basePath.length) };
  }
  const initiate = initiateSuffixOf(pathname);
  if (initiate) return { mountPath: pathname.slice(0, -initiate.length), rest: initiate };
  const starts = ALL_APP_PATHS.map((appPath) => pathname.indexOf(`/${appPath}/`)).filter((index) => index !== -1);
  if (starts.length === 0) return undefined;
  const start = Math.min(...starts);
  const mountPath = pathname.slice(0, start);
  const rest = pathname.slice(start);
  return mountPath.endsWith("/sync")
    ? { mountPath: mountPath.slice(0, -"/sync".length), rest: `/sync${rest}` }
    : { mountPath, rest };
}

function mountUrl(config: ProxyConfig, requestUrl: URL, mountPath: string): string {
  return config.options.publicUrl ? trimSlash(config.options.publicUrl) : `${requestUrl.origin}${mountPath}`;
}

function withUpstream(
  config: ProxyConfig,
  operation: Operation,
  host: HostKind,
  query: URLSearchParams,
  mount: string,
): Route | Response {
  const base = host === "sync" ? config.syncBase : host === "storage" ? config.storage?.base : config.queueBase;
  if (!base) {
    if (host === "storage") return storageNotAllowed();
    return refuse(403, "proxy_operation_not_allowed", "sync_disabled", "sync runs are not enabled on this proxy");
  }
  const path =
    operation.kind === "upload"
      ? initiatePath(operation.multipart)
      : operation.kind === "submit" || operation.kind === "run"
        ? `/${operation.endpoint}`
        : requestPath(operation.appPath, operation.requestId, operation.kind);
  // The base may carry a path prefix (gateways, `{mock}/sync`); paths were checked to be plain segments.
  const upstream = new URL(joinUrl(base.url.href, path));
  upstream.search = filterQuery(operation.kind, query).toString();
  const webhook = operation.kind === "submit" ? query.get(FAL_QUERY.webhook) : null;
  return { operation, upstream, mount, webhook };
}

/** True when `url` names an upload initiate on fal's storage host or on a host this proxy serves. */
function namesInitiate(config: ProxyConfig, url: URL): boolean {
  if (url.origin === FAL_STORAGE_ORIGIN && matchInitiate(url.pathname)) return true;
  return config.namedBases.some((base) => {
    const rest = relativeTo(url, base);
    return rest !== undefined && matchInitiate(rest) !== undefined;
  });
}

/** The part of `url`'s path under `base`, or undefined when `url` is not under it. */
function relativeTo(url: URL, base: Base): string | undefined {
  if (url.origin !== base.url.origin) return undefined;
  if (base.path === "") return url.pathname;
  if (url.pathname === base.path) return "";
  return url.pathname.startsWith(`${base.path}/`) ? url.pathname.slice(base.path.length) : undefined;
}

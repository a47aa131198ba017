/**
 * Which operation a request asks for. Where the queue lives comes first (the adapter says so, or it
 * is the request's own origin, with `/sync` on the same origin and fal.run-style hosts being sync runs);
 * then the path relative to it is matched with the protocol core's `parseRequestPath`.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import { endpoints, isEndpointId } from "@kontext-sdk/schema";
import { parseRequestPath, type RequestOperation } from "@kontext-sdk/schema/protocol";

/** Where the queue lives for this request: `base` is the URL prefix operations hang off. */
export interface RouteContext {
  /** Absolute URL prefix, e.g. `https://queue.fal.run` or `http://127.0.0.1:4010`. */
  base: string;
  /** True when the request is a sync run host (fal.run-style). */
  sync?: boolean;
}

export interface Location {
  /** The prefix the operation's path hangs off (`…/sync` for sync runs on the queue's origin). */
  base: string;
  /** The queue's own prefix, for the URLs the answers carry. */
  origin: string;
  sync: boolean;
  /** The decoded path relative to `base`. */
  path: string;
}

export type Route =
  | { kind: "jwks" }
  | { kind: "file"; requestId: string; index: number; format: "png" | "jpeg" }
  | { kind: "model"; operation: "submit" | "run"; endpoint: EndpointId }
  | { kind: "request"; operation: RequestOperation; requestId: string; appPath: string }
  | { kind: "not-found" }
  | { kind: "method-not-allowed" };

const FILE_PATH = /^\/files\/([^/]+)\/(\d+)\.(png|jpe?g)$/;
const APP_PATHS = new Set<string>(Object.values(endpoints).map((endpoint) => endpoint.appPath));
const SYNC_HOST = /^(.+\.)?fal\.run$/;
const QUEUE_HOST = /^queue\.fal\.run$/;

/** Where the request lands; undefined when its path cannot be decoded. */
export function locate(url: URL, method: string, context: RouteContext | undefined): Location | undefined {
  let base = context?.base ?? url.origin;
  let sync = context?.sync ?? (SYNC_HOST.test(url.hostname) && !QUEUE_HOST.test(url.hostname));
  const basePath = context ? new URL(base).pathname.replace(/\/$/, "") : "";
  let path = url.pathname;
  if (basePath && path.startsWith(basePath)) path = path.slice(basePath.length) || "/";
  if (!context && !sync && (path === "/sync" || path.startsWith("/sync/")) && method === "POST") {
    sync = true;
    base = `${base}/sync`;
    path = path.slice("/sync".length);
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  return { base, origin: base.replace(/\/sync$/, ""), sync, path };
}

export function route(location: Location, method: string): Route {
  const { path, sync } = location;
  const readOnly = method === "GET" || method === "HEAD";
  // The webhook signing key, for a receiver's `jwksUrl`; public, like fal's.
  if (path === "/.well-known/jwks.json" && readOnly) return { kind: "jwks" };
  const file = FILE_PATH.exec(path);
  if (file) {
    if (!readOnly) return { kind: "method-not-allowed" };
    return { kind: "file", requestId: file[1]!, index: Number(file[2]), format: file[3] === "png" ? "png" : "jpeg" };
  }
  const endpointId = path.slice(1).replace(/\/$/, "");
  if (sync || isEndpointId(endpointId)) {
    if (!isEndpointId(endpointId)) return { kind: "not-found" };
    if (method !== "POST") return { kind: "method-not-allowed" };
    return { kind: "model", operation: sync ? "run" : "submit", endpoint: endpointId };
  }
  return requestRoute(path, method === "HEAD" ? "GET" : method);
}

/** Status, stream, result and cancel; a known path with the wrong method is a 405. */
function requestRoute(path: string, method: string): Route {
  const trimmed = path.length > 1 ? path.replace(/\/$/, "") : path;
  const parsed = parseRequestPath(method, trimmed);
  if (parsed) {
    if (!APP_PATHS.has(parsed.appPath)) return { kind: "not-found" };
    return { kind: "request", operation: parsed.operation, requestId: parsed.requestId, appPath: parsed.appPath };
  }
  const otherMethod = method === "PUT" ? "GET" : "PUT";
  const elsewhere = parseRequestPath(otherMethod, trimmed);
  return elsewhere && APP_PATHS.has(elsewhere.appPath) ? { kind: "method-not-allowed" } : { kind: "not-found" };
}

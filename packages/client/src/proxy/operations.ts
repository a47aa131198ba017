import { type EndpointId, endpoints, STORAGE_UPLOAD } from "@kontext-sdk/schema";
import { initiateKindOf, initiatePath, parseRequestPath } from "@kontext-sdk/schema/protocol";

/**
 * The operations the spec defines, recognised from a method and a path relative to an upstream base.
 * Anything else is refused: the proxy is an allowlist, not a relay. Exported as `ProxyOperation`, for
 * `authorizeOperation`; `appPath` is the owner/app part of the endpoint id (`fal-ai/flux-pro`). An
 * `upload` is the initiate of fal's storage flow (only with the `storage` option): it asks for a signed
 * URL, the bytes themselves never pass through the proxy.
 */
export type Operation =
  | { kind: "submit"; endpoint: EndpointId; appPath: string }
  | { kind: "run"; endpoint: EndpointId; appPath: string }
  | { kind: "status" | "stream" | "result" | "cancel"; appPath: string; requestId: string }
  | { kind: "upload"; multipart: boolean };

export type OperationKind = Operation["kind"];

/** The operations on fal's queue and sync hosts (everything but storage). */
export type QueueOperation = Exclude<Operation, { kind: "upload" }>;

/** Which host an operation belongs to: fal's queue host, its synchronous host, or its storage (REST) host. */
export type HostKind = "queue" | "sync" | "storage";

/** The upload operation a path names (`/storage/upload/initiate[-multipart]`, core `initiateKindOf`), whatever the host and method. */
export function matchInitiate(path: string): { kind: "upload"; multipart: boolean } | undefined {
  const multipart = initiateKindOf(path);
  return multipart === undefined ? undefined : { kind: "upload", multipart };
}

/** The initiate path `pathname` ends with, if any (a direct path under a mount found from the path itself). */
export const initiateSuffixOf = (pathname: string): string | undefined =>
  [initiatePath(false), initiatePath(true)].find((path) => pathname.endsWith(path));

/** Every app path (`owner/app`) of the registry, longest first so a longer one wins a prefix match. */
export const ALL_APP_PATHS: readonly string[] = [...new Set(Object.values(endpoints).map((endpoint) => endpoint.appPath))].sort(
  (a, b) => b.length - a.length,
);

/**
 * Matches `method path` against the spec's operations for the allowed endpoints.
 * `path` is a URL pathname relative to the upstream base (it starts with `/`).
 */
export function matchOperation(
  method: string,
  path: string,
  host: HostKind,
  allowed: ReadonlySet<EndpointId>,
): Operation | undefined {
  // Paths are compared as exact strings; any escaping, empty or dot segment is refused outright
  // rather than normalised, so what is checked is exactly what is sent.
  if (!path.startsWith("/") || path.includes("%") || path.includes("//") || /\/\.\.?(\/|$)/.test(path)) return undefined;
  if (host === "storage") return method === "POST" ? matchInitiate(path) : undefined;
  const id = path.slice(1);
  if (method === "POST" && allowed.has(id as EndpointId)) {
    const endpoint = id as EndpointId;
    return { kind: host === "queue" ? "submit" : "run", endpoint, appPath: endpoints[endpoint].appPath };
  }
  if (host !== "queue") return undefined;
  // The core reads the queue path (owner/app rule, safe request id, method per operation); the proxy
  // then keeps only the app paths of the allowed endpoints.
  const parsed = parseRequestPath(method, path);
  if (!parsed || !allowedAppPaths(allowed).includes(parsed.appPath)) return undefined;
  return { kind: parsed.operation, appPath: parsed.appPath, requestId: parsed.requestId };
}

const appPathCache = new WeakMap<ReadonlySet<EndpointId>, string[]>();

/** The app paths whose status/result/cancel may be read: those of the allowed endpoints only. */
export function allowedAppPaths(allowed: ReadonlySet<EndpointId>): string[] {
  let paths = appPathCache.get(allowed);
  if (!paths) {
    paths = [...new Set([...allowed].map((id) => endpoints[id].appPath))].sort((a, b) => b.length - a.length);
    appPathCache.set(allowed, paths);
  }
  return paths;
}

/**
 * The query parameters an operation may carry upstream; everything else is dropped so a caller
 * cannot reach undocumented behaviour through the proxy. `fal_webhook` is handled by the proxy itself.
 */
export function filterQuery(kind: OperationKind, query: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  if (kind === "status" || kind === "stream") {
    const logs = query.get("logs");
    if (logs !== null && ["0", "1", "true", "false"].includes(logs)) out.set("logs", logs);
  }
  // fal's CDN v3 is the one storage type the spec describes; any other value is dropped, not passed on.
  if (kind === "upload" && query.get("storage_type") === STORAGE_UPLOAD.storageType)
    out.set("storage_type", STORAGE_UPLOAD.storageType);
  return out;
}

/**
 * Where fal's queue operations live. Submit goes to the full endpoint id; status, stream, result and
 * cancel live under the owner/app part only ("The subpath should be used when making the request, but
 * not when getting request status or results", docs.fal.ai/model-endpoints/queue). fal-js and fal_client
 * both apply this rule, with a three-segment app id for the `workflows` and `comfy` namespaces.
 */

/** fal namespaces whose app ids have three segments (`workflows/{owner}/{app}`), as in fal-js and fal_client. */
export const APP_NAMESPACES: readonly string[] = ["workflows", "comfy"];

/** The kinds of request a queue host answers, besides submit. */
export type RequestOperation = "status" | "stream" | "result" | "cancel";

const SUFFIX: Record<RequestOperation, string> = { status: "/status", stream: "/status/stream", result: "", cancel: "/cancel" };
const METHOD: Record<RequestOperation, string> = { status: "GET", stream: "GET", result: "GET", cancel: "PUT" };

/** The HTTP method of a request operation (`cancel` is a PUT, the others GETs). */
export const methodOf = (operation: RequestOperation) => METHOD[operation];

/** `fal-ai/flux-pro/kontext/max` → `fal-ai/flux-pro`: the app path status, result and cancel live under. */
export function appPath(endpoint: string): string {
  const parts = endpoint.replace(/^\/+|\/+$/g, "").split("/");
  return parts.slice(0, APP_NAMESPACES.includes(parts[0] ?? "") ? 3 : 2).join("/");
}

/** `/{owner}/{app}/requests/{id}` plus the operation's suffix (`/status`, `/status/stream`, `/cancel`). */
export function requestPath(endpoint: string, requestId: string, operation: RequestOperation = "result"): string {
  return `/${appPath(endpoint)}/requests/${encodeURIComponent(requestId)}${SUFFIX[operation]}`;
}

/** The queue paths (relative to the queue host) of one request, keyed the way fal documents them. */
export interface QueuePaths {
  submit: string;
  status: string;
  stream: string;
  result: string;
  cancel: string;
}

export function queuePaths(endpoint: string, requestId: string): QueuePaths {
  return {
    submit: `/${endpoint.replace(/^\/+/, "")}`,
    status: requestPath(endpoint, requestId, "status"),
    stream: requestPath(endpoint, requestId, "stream"),
    result: requestPath(endpoint, requestId, "result"),
    cancel: requestPath(endpoint, requestId, "cancel"),
  };
}

// fal's request ids are UUIDs. Anything with dots, slashes or percent signs could smuggle another path
// into a URL, so servers (the proxy, the mock) only accept a conservative alphabet.
const REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** True for a request id that can be put in a path as is. */
export function isSafeRequestId(id: unknown): id is string {
  return typeof id === "string" && REQUEST_ID.test(id);
}

/** A queue path recognised: which operation on which app's request. */
export interface ParsedRequestPath {
  operation: RequestOperation;
  appPath: string;
  requestId: string;
}

/**
 * Reads `/{owner}/{app}/requests/{id}[/status|/status/stream|/cancel]` (the path relative to the queue
 * base). The method must match the operation. Undefined for anything else, including request ids outside
 * the safe alphabet and app paths that break the owner/app rule: a server refuses rather than guesses.
 */
export function parseRequestPath(method: string, path: string): ParsedRequestPath | undefined {
  const parts = path.split("/");
  // parts[0] is the empty string before the leading slash.
  if (parts[0] !== "" || parts.some((part, index) => index > 0 && part === "")) return undefined;
  const marker = parts.indexOf("requests", 1);
  if (marker < 0) return undefined;
  const app = parts.slice(1, marker).join("/");
  if (!app || appPath(app) !== app) return undefined;
  const requestId = parts[marker + 1];
  if (!isSafeRequestId(requestId)) return undefined;
  const tail = parts.slice(marker + 2).join("/");
  const operation = (Object.keys(SUFFIX) as RequestOperation[]).find((op) => SUFFIX[op] === (tail ? `/${tail}` : ""));
  if (!operation || METHOD[operation] !== method.toUpperCase()) return undefined;
  return { operation, appPath: app, requestId };
}

/** `base` (which may carry a path prefix, as gateways do) joined with an absolute path. */
export const joinUrl = (base: string, path: string) => base.replace(/\/+$/, "") + path;

/** The origin of a URL, or undefined when it does not parse. */
export function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

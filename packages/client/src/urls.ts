import type { EndpointId } from "@kontext-sdk/schema";

// fal namespaces whose app ids have three segments (`workflows/{owner}/{app}`), as in fal-js and fal_client.
const NAMESPACES = ["workflows", "comfy"];

/**
 * The app path that status, result and cancel live under: owner/app only, never the endpoint's
 * sub-path (`fal-ai/flux-pro/kontext/max` → `fal-ai/flux-pro`). This is fal's rule, and it gives the
 * registry's `appPath` for every endpoint (a test holds the two together); computing it here keeps the
 * schema's runtime, whose compiled validators are most of its weight, out of bundles that skip validation.
 */
export function appPath(endpoint: string): string {
  const parts = endpoint.replace(/^\/+|\/+$/g, "").split("/");
  return parts.slice(0, NAMESPACES.includes(parts[0]!) ? 3 : 2).join("/");
}

/** The queue paths (relative to the queue host) of one request, keyed the way fal documents them. */
export interface QueueUrls {
  submit: string;
  status: string;
  stream: string;
  result: string;
  cancel: string;
}

/** `/{owner}/{app}/requests/{id}`: the result path, under which status and cancel live. */
export const requestPath = (endpoint: string, requestId: string) =>
  `/${appPath(endpoint)}/requests/${encodeURIComponent(requestId)}`;

export function queueUrls(endpoint: EndpointId | (string & {}), requestId: string): QueueUrls {
  const result = requestPath(endpoint, requestId);
  return {
    submit: `/${endpoint.replace(/^\/+/, "")}`,
    status: `${result}/status`,
    stream: `${result}/status/stream`,
    result,
    cancel: `${result}/cancel`,
  };
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

/**
 * A URL returned by the server (`status_url`, `response_url`, `cancel_url`) is only a hint: it is followed
 * when it points at the configured host, and otherwise the URL is built from our own base. A gateway that
 * echoes fal's `https://queue.fal.run/...` URLs keeps working, and credentials go nowhere else.
 */
export function pickUrl(returned: string | undefined, base: string, built: string): string {
  return returned && originOf(returned) === originOf(base) ? returned : built;
}

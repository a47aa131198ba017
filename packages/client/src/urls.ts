/**
 * Where a job's calls go. The paths are the protocol core's (owner/app rule, request paths); this module
 * keeps the client's public names for them and the one rule of its own: which URLs a server hands back
 * are worth following.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import { appPath, originOf, type QueuePaths, queuePaths } from "@kontext-sdk/schema/protocol";

export { appPath };

/** The queue paths (relative to the queue host) of one request, keyed the way fal documents them. */
export type QueueUrls = QueuePaths;

/** The queue paths of one request: submit, status, stream, result and cancel. */
export const queueUrls = (endpoint: EndpointId | (string & {}), requestId: string): QueueUrls => queuePaths(endpoint, requestId);

/**
 * A URL returned by the server (`status_url`, `response_url`, `cancel_url`) is only a hint: it is followed
 * when it points at the configured host, and otherwise the URL is built from our own base. A gateway that
 * echoes fal's `https://queue.fal.run/...` URLs keeps working, and credentials go nowhere else.
 */
export function pickUrl(returned: string | undefined, base: string, built: string): string {
  return returned && originOf(returned) === originOf(base) ? returned : built;
}

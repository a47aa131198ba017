import type { EndpointId } from "@kontext-sdk/schema";

/**
 * Query keys for everything the hooks cache, from the broadest to the narrowest, so that
 * `queryClient.invalidateQueries({ queryKey: kontextQueryKeys.endpoint(e) })` reaches every request of `e`.
 *
 *   ["kontext"]
 *   ["kontext", endpoint]
 *   ["kontext", endpoint, "request", requestId]
 *   ["kontext", endpoint, "request", requestId, "status"]
 *   ["kontext", endpoint, "request", requestId, "result"]
 */
export const kontextQueryKeys = {
  all: () => ["kontext"] as const,
  endpoint: <E extends EndpointId>(endpoint: E) => ["kontext", endpoint] as const,
  request: <E extends EndpointId>(endpoint: E, requestId: string) => ["kontext", endpoint, "request", requestId] as const,
  status: <E extends EndpointId>(endpoint: E, requestId: string) =>
    ["kontext", endpoint, "request", requestId, "status"] as const,
  result: <E extends EndpointId>(endpoint: E, requestId: string) =>
    ["kontext", endpoint, "request", requestId, "result"] as const,
  /** The mutation key of `useKontext(endpoint)`, for `useMutationState` / `useIsMutating`. */
  submit: <E extends EndpointId>(endpoint: E) => ["kontext", endpoint, "submit"] as const,
};

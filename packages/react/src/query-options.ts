import type { KontextLiteClient } from "@kontext-sdk/client";
import type { EndpointId } from "@kontext-sdk/schema";
import { queryOptions } from "@tanstack/react-query";
import { kontextQueryKeys } from "./query-keys.js";

/**
 * Query options for a request's result: `useQuery(kontextQueryOptions(client, endpoint, id))`,
 * `queryClient.prefetchQuery(...)` on the server, `queryClient.getQueryData(options.queryKey)` (typed).
 * Use it for a request that is done; `useKontextRequest` waits for the status first.
 */
export function kontextQueryOptions<E extends EndpointId>(client: KontextLiteClient, endpoint: E, requestId: string) {
  return queryOptions({
    queryKey: kontextQueryKeys.result(endpoint, requestId),
    queryFn: ({ signal }) => client.result(endpoint, requestId, { signal }),
    // A finished request's output never changes.
    staleTime: Number.POSITIVE_INFINITY,
    // The client already retries what is worth retrying; a second layer would multiply the attempts.
    retry: false,
  });
}

export interface KontextStatusQueryConfig {
  /** Ask for the job's log lines (default true). */
  logs?: boolean;
  /** How often to ask again while the job is not COMPLETED, in ms (default 1000). */
  pollInterval?: number;
}

/**
 * Query options for a request's queue status. While the job is IN_QUEUE or IN_PROGRESS the query asks again
 * every `pollInterval` ms; once it is COMPLETED it stops and stays fresh.
 */
export function kontextStatusQueryOptions<E extends EndpointId>(
  client: KontextLiteClient,
  endpoint: E,
  requestId: string,
  { logs = true, pollInterval = 1000 }: KontextStatusQueryConfig = {},
) {
  return queryOptions({
    queryKey: kontextQueryKeys.status(endpoint, requestId),
    queryFn: ({ signal }) => client.status(endpoint, requestId, { logs, signal }),
    refetchInterval: (query) => (query.state.data?.status === "COMPLETED" ? false : pollInterval),
    staleTime: (query) => (query.state.data?.status === "COMPLETED" ? Number.POSITIVE_INFINITY : 0),
    retry: false,
  });
}

import { type FollowOptions, KontextError, type KontextJob, type KontextLiteClient } from "@kontext-sdk/client";
import type { EndpointId, QueueStatus } from "@kontext-sdk/schema";
import { type QueryClient, queryOptions } from "@tanstack/react-query";
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
  /** `stream` (default): fal's status stream, reopened when silent, polling when it breaks; `poll`: polling only. */
  mode?: FollowOptions["mode"];
  /**
   * How often to ask again, in ms, while polling. `useKontextRequest`: the client's adaptive interval
   * unless given; `kontextStatusQueryOptions`: default 1000.
   */
  pollInterval?: number;
}

/**
 * Query options for a request's queue status, one answer per fetch (`client.status`): for prefetching
 * and server rendering, where a query function must return rather than follow the job. Used with
 * `useQuery`, it asks again every `pollInterval` ms (default 1000) while the job runs, and never after an
 * error or once the job is COMPLETED. `useKontextRequest` follows a job with the status stream instead
 * (the client's job handle), under the same query key.
 */
export function kontextStatusQueryOptions<E extends EndpointId>(
  client: KontextLiteClient,
  endpoint: E,
  requestId: string,
  { logs = true, pollInterval = 1000 }: Omit<KontextStatusQueryConfig, "mode"> = {},
) {
  return queryOptions({
    queryKey: kontextQueryKeys.status(endpoint, requestId),
    queryFn: ({ signal }) => client.status(endpoint, requestId, { logs, signal }),
    // An error (a 404 for an unknown id, a 401) is final: asking again would only repeat it.
    refetchInterval: (query) =>
      query.state.status === "error" || query.state.data?.status === "COMPLETED" ? false : pollInterval,
    staleTime: (query) => (query.state.data?.status === "COMPLETED" ? Number.POSITIVE_INFINITY : 0),
    retry: false,
    retryOnMount: false,
  });
}

/**
 * The status query `useKontextRequest` runs: the job handle's statuses (`job.statuses()`: the status
 * stream, reopened when silent, polling when it breaks), each written to the cache as it arrives, the
 * query function resolving with the `COMPLETED` status or failing with the handle's typed error (a 404
 * for an unknown id, a 401, …), after which nothing asks again: no retry, no refetch on focus, reconnect
 * or mount. The hook shares the handle with its `cancel()`.
 */
export function followQueryOptions<E extends EndpointId>(
  job: () => KontextJob<E>,
  endpoint: E,
  requestId: string,
  { logs = true, mode, pollInterval }: KontextStatusQueryConfig = {},
) {
  const queryKey = kontextQueryKeys.status(endpoint, requestId);
  return queryOptions({
    queryKey,
    queryFn: ({ signal, client: queryClient }) =>
      followStatuses(job(), queryClient, queryKey, {
        logs,
        signal,
        ...(mode ? { mode } : {}),
        ...(pollInterval ? { pollInterval } : {}),
      }),
    // A COMPLETED status never changes; a running one is kept current by the query function itself.
    staleTime: (query) => (query.state.data?.status === "COMPLETED" ? Number.POSITIVE_INFINITY : 0),
    // The job handle already retried what was worth retrying; its error is final.
    retry: false,
    retryOnMount: false,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });
}

/**
 * The query function: every status of the job into the cache, as TanStack's `streamedQuery` does with a
 * reducer that keeps the latest chunk (written here because that helper is still
 * `experimental_`; `client` in the query function's context needs TanStack Query 5.66). Resolves with
 * the last status.
 */
async function followStatuses<E extends EndpointId>(
  job: KontextJob<E>,
  queryClient: QueryClient,
  queryKey: readonly unknown[],
  options: { logs: boolean; signal: AbortSignal; mode?: "stream" | "poll"; pollInterval?: number },
): Promise<QueueStatus> {
  let last: QueueStatus | undefined = queryClient.getQueryData<QueueStatus>(queryKey);
  for await (const status of job.statuses(options)) {
    last = status;
    queryClient.setQueryData(queryKey, status);
  }
  // statuses() ends only after COMPLETED, so this is a broken client, not a job state.
  if (!last) throw new KontextError(`the statuses of ${String(queryKey[3])} ended without a status`);
  return last;
}

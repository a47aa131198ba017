import type { KontextJob, KontextLiteClient } from "@kontext-sdk/client";
import type { EndpointId, LogEntry, OutputOf, QueueStatus } from "@kontext-sdk/schema";
import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";
import { EMPTY_LOGS, queuePositionOf } from "./progress.js";
import { useKontextClient } from "./provider.js";
import { followQueryOptions, type KontextStatusQueryConfig, kontextQueryOptions } from "./query-options.js";

/** `pending` = the first status has not arrived yet; `cancelled` = `cancel()` was called here. */
export type KontextRequestStatus = "idle" | "pending" | "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED" | "error" | "cancelled";

export interface UseKontextRequestOptions extends KontextStatusQueryConfig {
  /** Overrides the `KontextProvider`'s client. */
  client?: KontextLiteClient;
  /** Overrides the `QueryClientProvider`'s query client. */
  queryClient?: QueryClient;
  /** Set false to hold off (a missing request id does the same). */
  enabled?: boolean;
}

export interface UseKontextRequestResult<E extends EndpointId> {
  status: KontextRequestStatus;
  requestId: string | undefined;
  queuePosition: number | undefined;
  logs: LogEntry[];
  queueStatus: QueueStatus | undefined;
  data: OutputOf<E> | undefined;
  images: OutputOf<E>["images"];
  error: Error | null;
  /** Stops following the job and cancels it on the server; resolves once the cancel was sent. */
  cancel: () => Promise<void>;
  statusQuery: ReturnType<typeof useQuery<QueueStatus, Error>>;
  resultQuery: ReturnType<typeof useQuery<{ data: OutputOf<E>; requestId: string }, Error>>;
}

const NO_IMAGES: never[] = [];

/**
 * Follow a request that was submitted elsewhere (another tab, a server action, a webhook flow) through the client's
 * job handle (`client.job(endpoint, requestId)`): its statuses (the status stream, reopened when silent, polling when
 * it breaks) until it is COMPLETED, then its result. An error (a 404 for an unknown id, a 401, …) ends it: nothing is
 * asked again. Both are cached under `kontextQueryKeys`, so a result already in the cache (from
 * `useKontext`, a prefetch or server rendering) is shown without asking the server about the status at all.
 */
export function useKontextRequest<E extends EndpointId>(
  endpoint: E,
  requestId: string | null | undefined,
  options: UseKontextRequestOptions = {},
): UseKontextRequestResult<E> {
  const { client: clientOption, queryClient: queryClientOption, enabled = true, logs, mode, pollInterval } = options;
  const client = useKontextClient(clientOption);
  const queryClient = useQueryClient(queryClientOption);
  const id = requestId ?? "";
  const [cancelledId, setCancelledId] = useState<string>();
  const cancelled = id !== "" && cancelledId === id;
  const active = enabled && id !== "";
  // One job handle per request and client: the status query follows it, cancel() cancels it. Made on
  // first use, so rendering on the server creates nothing. A new client (the provider's changed, or the
  // option) gets a new handle, so its credentials and fetch are the ones used from then on.
  const jobRef = useRef<{ key: string; client: KontextLiteClient; job: KontextJob<E> } | undefined>(undefined);
  const jobFor = useCallback(() => {
    const key = `${endpoint}\u0000${id}`;
    let cached = jobRef.current;
    if (cached?.key !== key || cached.client !== client || cached.job.endpoint !== endpoint) {
      cached = { key, client, job: client.job(endpoint, id) };
      jobRef.current = cached;
    }
    return cached.job;
  }, [client, endpoint, id]);

  const resultOptions = kontextQueryOptions(client, endpoint, id);
  // This component is subscribed to the result query below, so this read is redone whenever the result changes.
  const haveResult = active && queryClient.getQueryData(resultOptions.queryKey) !== undefined;
  const statusQuery = useQuery(
    {
      ...followQueryOptions(jobFor, endpoint, id, { logs, mode, pollInterval }),
      enabled: active && !haveResult && !cancelled,
    },
    queryClient,
  );
  const completed = statusQuery.data?.status === "COMPLETED";
  const resultQuery = useQuery({ ...resultOptions, enabled: active && !cancelled && (completed || haveResult) }, queryClient);

  const cancel = useCallback(async () => {
    if (!id) return;
    setCancelledId(id);
    // The handle stops its own statuses (the query's wait ends) and cancels the job on the server.
    await jobFor().cancel();
  }, [id, jobFor]);

  const queueStatus = statusQuery.data;
  const data = active ? resultQuery.data?.data : undefined;
  const error = active ? (resultQuery.error ?? statusQuery.error) : null;
  let status: KontextRequestStatus;
  if (!active) status = "idle";
  else if (data) status = "COMPLETED";
  else if (cancelled) status = "cancelled";
  else if (error) status = "error";
  else if (!queueStatus) status = "pending";
  // COMPLETED with no result yet: the result is on its way.
  else status = queueStatus.status === "IN_QUEUE" ? "IN_QUEUE" : "IN_PROGRESS";

  return {
    status,
    requestId: requestId ?? undefined,
    queuePosition: queuePositionOf(queueStatus),
    logs: queueStatus?.logs ?? EMPTY_LOGS,
    queueStatus,
    data,
    images: data?.images ?? NO_IMAGES,
    error: cancelled ? null : error,
    cancel,
    statusQuery,
    resultQuery,
  };
}

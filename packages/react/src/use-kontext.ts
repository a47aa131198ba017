import type { KontextInput, KontextLiteClient, KontextResult, SubscribeOptions } from "@kontext-sdk/client";
import type { CancelResponse, EndpointId, LogEntry, OutputOf, QueueStatus } from "@kontext-sdk/schema";
import {
  type MutateOptions,
  type QueryClient,
  type UseMutationOptions,
  type UseMutationResult,
  useMutation,
  useQueryClient,
} from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { EMPTY_LOGS, type KontextStatus, mergeLogs, queuePositionOf } from "./progress.js";
import { useKontextClient } from "./provider.js";
import { kontextQueryKeys } from "./query-keys.js";

type Images<E extends EndpointId> = OutputOf<E>["images"];

export interface UseKontextOptions<E extends EndpointId>
  extends Omit<UseMutationOptions<KontextResult<E>, Error, KontextInput<E>>, "mutationFn" | "mutationKey">,
    Omit<SubscribeOptions, "signal" | "onEnqueue" | "onQueueUpdate" | "logs"> {
  /** Overrides the `KontextProvider`'s client. */
  client?: KontextLiteClient;
  /** Overrides the `QueryClientProvider`'s query client. */
  queryClient?: QueryClient;
  /** Collect the job's log lines (default true). */
  logs?: boolean;
  /** Also cancel the remote job when the component unmounts mid-job (default false: only the local subscription stops). */
  cancelOnUnmount?: boolean;
  onEnqueue?: (requestId: string) => void;
  onQueueUpdate?: (status: QueueStatus) => void;
}

interface UseKontextBase<E extends EndpointId> {
  /** Starts a job. Call it from an event handler; errors land in `error`. */
  submit: (input: KontextInput<E>, options?: MutateOptions<KontextResult<E>, Error, KontextInput<E>>) => void;
  /** Like `submit`, but returns the result; rejects with the error (an AbortError after `cancel`/unmount). */
  submitAsync: (
    input: KontextInput<E>,
    options?: MutateOptions<KontextResult<E>, Error, KontextInput<E>>,
  ) => Promise<KontextResult<E>>;
  /**
   * Stops the job here and cancels it on the server. Resolves with the server's answer (undefined when there was
   * no job to cancel); rejects only when the cancel call itself failed.
   */
  cancel: () => Promise<CancelResponse | undefined>;
  /** Back to idle; a running job is left alone on the server and no longer followed here. */
  reset: () => void;
  requestId: string | undefined;
  /** Jobs ahead of this one while IN_QUEUE. */
  queuePosition: number | undefined;
  logs: LogEntry[];
  /** The latest queue status the client reported. */
  queueStatus: QueueStatus | undefined;
  /** The underlying TanStack mutation, for anything not surfaced here. */
  mutation: UseMutationResult<KontextResult<E>, Error, KontextInput<E>>;
}

export type UseKontextResult<E extends EndpointId> = UseKontextBase<E> &
  (
    | {
        status: "idle" | "submitting" | "IN_QUEUE" | "IN_PROGRESS" | "cancelled";
        data: undefined;
        images: Images<E>;
        error: null;
      }
    | { status: "COMPLETED"; data: OutputOf<E>; images: Images<E>; error: null }
    | { status: "error"; data: undefined; images: Images<E>; error: Error }
  );

/** One job's bookkeeping, owned by the mutation function that started it. */
interface Run {
  id: number;
  client: KontextLiteClient;
  endpoint: EndpointId;
  controller: AbortController;
  requestId?: string;
  settled: boolean;
  /** cancel() came before the request id: cancel remotely as soon as it is known. */
  cancelOnEnqueue?: (requestId: string) => void;
  onSettled?: () => void;
}

interface Progress {
  run: number;
  phase: "idle" | "submitting" | "IN_QUEUE" | "IN_PROGRESS";
  requestId?: string;
  queueStatus?: QueueStatus;
  logs: LogEntry[];
  cancelled: boolean;
}

const IDLE: Progress = { run: 0, phase: "idle", logs: EMPTY_LOGS, cancelled: false };
const NO_IMAGES: never[] = [];

function abortError(message: string): DOMException {
  return new DOMException(message, "AbortError");
}

/**
 * Generate with one Kontext endpoint: `submit(input)` runs `client.subscribe` (submit → status stream or polling →
 * result) inside a TanStack mutation and keeps its progress (request id, queue position, logs) next to it.
 * Input and output types follow the endpoint id.
 */
export function useKontext<E extends EndpointId>(endpoint: E, options: UseKontextOptions<E> = {}): UseKontextResult<E> {
  const {
    client: clientOption,
    queryClient: queryClientOption,
    logs = true,
    cancelOnUnmount = false,
    onEnqueue,
    onQueueUpdate,
    onSuccess,
    mode,
    pollInterval,
    timeout,
    webhookUrl,
    priority,
    startTimeout,
    hint,
    headers,
    ...mutationOptions
  } = options;
  const client = useKontextClient(clientOption);
  const queryClient = useQueryClient(queryClientOption);
  const [progress, setProgress] = useState<Progress>(IDLE);
  const runRef = useRef<Run | undefined>(undefined);
  const runCounter = useRef(0);
  // Callbacks and the unmount cleanup read the latest options without re-subscribing.
  const latest = useRef({ onEnqueue, onQueueUpdate, cancelOnUnmount });
  latest.current = { onEnqueue, onQueueUpdate, cancelOnUnmount };

  const update = useCallback((run: Run, change: (p: Progress) => Progress) => {
    setProgress((p) => (p.run === run.id ? change(p) : p));
  }, []);

  const mutation = useMutation<KontextResult<E>, Error, KontextInput<E>>(
    {
      ...mutationOptions,
      mutationKey: kontextQueryKeys.submit(endpoint),
      mutationFn: async (input) => {
        // A new job replaces the one this hook followed; that one keeps running on the server.
        const previous = runRef.current;
        if (previous && !previous.settled) previous.controller.abort(abortError("Replaced by a new submit"));
        const run: Run = { id: ++runCounter.current, client, endpoint, controller: new AbortController(), settled: false };
        runRef.current = run;
        setProgress({ ...IDLE, run: run.id, phase: "submitting" });
        try {
          return await client.subscribe(endpoint, input, {
            mode,
            pollInterval,
            timeout,
            webhookUrl,
            priority,
            startTimeout,
            hint,
            headers,
            logs,
            signal: run.controller.signal,
            onEnqueue: (requestId) => {
              run.requestId = requestId;
              update(run, (p) => ({ ...p, requestId, phase: p.phase === "submitting" ? "IN_QUEUE" : p.phase }));
              run.cancelOnEnqueue?.(requestId);
              if (!run.controller.signal.aborted) latest.current.onEnqueue?.(requestId);
            },
            onQueueUpdate: (status) => {
              if (run.controller.signal.aborted) return;
              update(run, (p) => ({
                ...p,
                queueStatus: status,
                // COMPLETED here means the result is being fetched; `status` says COMPLETED once `data` is there.
                phase: status.status === "IN_QUEUE" ? "IN_QUEUE" : "IN_PROGRESS",
                logs: mergeLogs(p.logs, status.logs),
              }));
              latest.current.onQueueUpdate?.(status);
            },
          });
        } finally {
          run.settled = true;
          run.onSettled?.();
        }
      },
      onSuccess: (result, ...rest) => {
        // Seed the cache so useKontextRequest(endpoint, requestId) shows this result without a request.
        queryClient.setQueryData(kontextQueryKeys.result(endpoint, result.requestId), result);
        return (onSuccess as ((...args: unknown[]) => unknown) | undefined)?.(result, ...rest);
      },
    },
    queryClient,
  );

  /** Stops following `run`; with `remote`, cancels the job on the server too (after its id is known). */
  const stop = useCallback((run: Run, reason: DOMException, remote: boolean): Promise<CancelResponse | undefined> => {
    if (!remote || run.settled) {
      run.controller.abort(reason);
      return Promise.resolve(undefined);
    }
    if (run.requestId) {
      run.controller.abort(reason);
      return run.client.cancel(run.endpoint, run.requestId);
    }
    // Still submitting: aborting now would lose the request id and leave an orphan job on the server.
    return new Promise<CancelResponse | undefined>((resolve, reject) => {
      run.cancelOnEnqueue = (requestId) => {
        // From here on the answer to the cancel call settles this promise, not the end of the subscription.
        run.onSettled = undefined;
        run.controller.abort(reason);
        run.client.cancel(run.endpoint, requestId).then(resolve, reject);
      };
      run.onSettled = () => resolve(undefined);
    });
  }, []);

  const cancel = useCallback(async () => {
    const run = runRef.current;
    if (!run || run.settled) return undefined;
    update(run, (p) => ({ ...p, cancelled: true }));
    return stop(run, abortError("Cancelled"), true);
  }, [stop, update]);

  const resetMutation = mutation.reset;
  const reset = useCallback(() => {
    const run = runRef.current;
    if (run && !run.settled) void stop(run, abortError("Reset"), false);
    runRef.current = undefined;
    setProgress(IDLE);
    resetMutation();
  }, [resetMutation, stop]);

  useEffect(() => {
    // Runs on unmount only (StrictMode's rehearsal happens before any submit, so it finds nothing to stop).
    return () => {
      const run = runRef.current;
      if (run && !run.settled) stop(run, abortError("The component unmounted"), latest.current.cancelOnUnmount).catch(() => {});
    };
  }, [stop]);

  const status = statusOf(progress, mutation.status);
  const base: UseKontextBase<E> = {
    submit: mutation.mutate,
    submitAsync: mutation.mutateAsync,
    cancel,
    reset,
    requestId: progress.requestId ?? mutation.data?.requestId,
    queuePosition: status === "IN_QUEUE" ? queuePositionOf(progress.queueStatus) : undefined,
    logs: progress.logs,
    queueStatus: progress.queueStatus,
    mutation,
  };
  if (status === "COMPLETED" && mutation.data) {
    return { ...base, status, data: mutation.data.data, images: mutation.data.data.images, error: null };
  }
  if (status === "error" && mutation.error) {
    return { ...base, status, data: undefined, images: NO_IMAGES, error: mutation.error };
  }
  return { ...base, status: status as "idle", data: undefined, images: NO_IMAGES, error: null };
}

function statusOf(progress: Progress, mutationStatus: UseMutationResult["status"]): KontextStatus {
  if (progress.cancelled) return "cancelled";
  if (mutationStatus === "error") return "error";
  if (mutationStatus === "success") return "COMPLETED";
  if (mutationStatus === "pending") return progress.phase === "idle" ? "submitting" : progress.phase;
  return "idle";
}

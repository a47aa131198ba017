import type { KontextInput, KontextJob, KontextLiteClient, KontextResult, StartOptions } from "@kontext-sdk/client";
import type { EndpointId, LogEntry, OutputOf, QueueStatus } from "@kontext-sdk/schema";
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
    Omit<StartOptions, "signal" | "logs"> {
  /** Overrides the `KontextProvider`'s client. */
  client?: KontextLiteClient;
  /** Overrides the `QueryClientProvider`'s query client. */
  queryClient?: QueryClient;
  /** Collect the job's log lines (default true). */
  logs?: boolean;
  /** Whole-job limit in ms: the job is cancelled on the server and `error` is a `KontextTimeoutError`. */
  timeout?: number;
  /** Also cancel the remote job when the component unmounts mid-job (default false: only the local subscription stops). */
  cancelOnUnmount?: boolean;
  onEnqueue?: (requestId: string) => void;
  onQueueUpdate?: (status: QueueStatus) => void;
}

interface UseKontextBase<E extends EndpointId> {
  /** Starts a job. Call it from an event handler; errors land in `error`. */
  submit: (input: KontextInput<E>, options?: MutateOptions<KontextResult<E>, Error, KontextInput<E>>) => void;
  /**
   * Like `submit`, but returns the result; rejects with the error (`KontextCancelledError` after `cancel()`,
   * an `AbortError` after an unmount or `reset()`).
   */
  submitAsync: (
    input: KontextInput<E>,
    options?: MutateOptions<KontextResult<E>, Error, KontextInput<E>>,
  ) => Promise<KontextResult<E>>;
  /**
   * Stops the job here and cancels it on the server (as soon as its request id is known, when the submit
   * has not answered yet). Resolves once the cancel was sent; rejects only when the cancel call failed.
   */
  cancel: () => Promise<void>;
  /** Back to idle; a running job is left alone on the server and no longer followed here. */
  reset: () => void;
  requestId: string | undefined;
  /** Jobs ahead of this one while IN_QUEUE. */
  queuePosition: number | undefined;
  logs: LogEntry[];
  /** The latest queue status the client reported. */
  queueStatus: QueueStatus | undefined;
  /** The job being followed (from `client.start`), for anything not surfaced here. */
  job: KontextJob<E> | undefined;
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

/**
 * One submit's bookkeeping. The job handle owns the lifecycle (submit, follow, result, cancel before the
 * id is known); a run only adds what is local to this hook: the signal that stops following it here.
 */
interface Run<E extends EndpointId> {
  id: number;
  job: KontextJob<E>;
  /** Stops following the job here (unmount, reset, a newer submit); never cancels it on the server. */
  controller: AbortController;
  requestId?: string;
  settled: boolean;
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
const ignore = () => {};

function abortError(message: string): DOMException {
  return new DOMException(message, "AbortError");
}

/**
 * Generate with one Kontext endpoint: `submit(input)` starts a job (`client.start`) inside a TanStack
 * mutation, follows its statuses and fetches its result through the job handle, and keeps its progress
 * (request id, queue position, logs) next to the mutation. Input and output types follow the endpoint id.
 */
export function useKontext<E extends EndpointId>(endpoint: E, options: UseKontextOptions<E> = {}): UseKontextResult<E> {
  const { clientOption, queryClientOption, callbacks, onSuccess, startOptions, mutationOptions } = splitOptions(options);
  const client = useKontextClient(clientOption);
  const queryClient = useQueryClient(queryClientOption);
  const [progress, setProgress] = useState<Progress>(IDLE);
  const runRef = useRef<Run<E> | undefined>(undefined);
  const runCounter = useRef(0);
  // Callbacks and the unmount cleanup read the latest options without re-subscribing.
  const latest = useRef(callbacks);
  latest.current = callbacks;

  const update: Update<E> = useCallback((run: Run<E>, change: (p: Progress) => Progress) => {
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
        const controller = new AbortController();
        // No signal for the submit itself: once sent, it must answer, or a cancel could not find the job.
        const job = client.start(endpoint, input, startOptions);
        const run: Run<E> = { id: ++runCounter.current, job, controller, settled: false };
        runRef.current = run;
        setProgress({ ...IDLE, run: run.id, phase: "submitting" });
        try {
          return await follow(run, update, latest);
        } finally {
          run.settled = true;
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

  const cancel = useCancel(runRef, update);
  const reset = useReset(runRef, setProgress, mutation.reset);
  useStopOnUnmount(runRef, latest);

  const current = runRef.current?.id === progress.run ? runRef.current : undefined;
  return shape(progress, mutation, { cancel, reset, job: current?.job });
}

/**
 * The options sorted by who reads them: the hook (clients, callbacks), the job handle (`client.start`'s
 * options, `logs` on by default) and TanStack's mutation (the rest).
 */
function splitOptions<E extends EndpointId>(options: UseKontextOptions<E>) {
  const {
    client: clientOption,
    queryClient: queryClientOption,
    logs = true,
    cancelOnUnmount = false,
    timeout,
    onEnqueue,
    onQueueUpdate,
    onSuccess,
    mode,
    pollInterval,
    webhookUrl,
    priority,
    startTimeout,
    hint,
    headers,
    ...mutationOptions
  } = options;
  // The whole-job `timeout` is the job handle's: it cancels the job and rejects the waits with KontextTimeoutError.
  const startOptions: StartOptions = { mode, pollInterval, webhookUrl, priority, startTimeout, hint, headers, logs, timeout };
  const callbacks: LatestCallbacks = { onEnqueue, onQueueUpdate, cancelOnUnmount };
  return { clientOption, queryClientOption, callbacks, onSuccess, startOptions, mutationOptions };
}

/** The options read when an event happens rather than when a job starts (kept in a ref, see `useKontext`). */
interface LatestCallbacks {
  onEnqueue?: (requestId: string) => void;
  onQueueUpdate?: (status: QueueStatus) => void;
  cancelOnUnmount: boolean;
}

/**
 * The hook's slot for the run it follows (a React ref). The helper hooks below list it (and the other refs
 * and the state setter) in their dependencies, as the linter asks of a ref passed in: these never change,
 * so the callbacks keep one identity and the unmount cleanup still runs only on unmount.
 */
type RunSlot<E extends EndpointId> = { current: Run<E> | undefined };

/** `cancel()`: marks the current run cancelled and cancels its job on the server. */
function useCancel<E extends EndpointId>(runRef: RunSlot<E>, update: Update<E>): () => Promise<void> {
  return useCallback(async () => {
    const run = runRef.current;
    if (!run || run.settled) return;
    update(run, (p) => ({ ...p, cancelled: true }));
    // The job handle cancels remotely as soon as the request id is known, and rejects its waits.
    await run.job.cancel();
  }, [runRef, update]);
}

/** `reset()`: stops following the current run here (the job keeps running) and resets the mutation. */
function useReset<E extends EndpointId>(
  runRef: RunSlot<E>,
  setProgress: (progress: Progress) => void,
  resetMutation: () => void,
): () => void {
  return useCallback(() => {
    const run = runRef.current;
    if (run && !run.settled) run.controller.abort(abortError("Reset"));
    runRef.current = undefined;
    setProgress(IDLE);
    resetMutation();
  }, [runRef, setProgress, resetMutation]);
}

/** On unmount, stops following the current run, and cancels its job too when `cancelOnUnmount` says so. */
function useStopOnUnmount<E extends EndpointId>(runRef: RunSlot<E>, latest: { readonly current: LatestCallbacks }): void {
  useEffect(() => {
    // Runs on unmount only (StrictMode's rehearsal happens before any submit, so it finds nothing to stop).
    return () => {
      const run = runRef.current;
      if (!run || run.settled) return;
      run.controller.abort(abortError("The component unmounted"));
      if (latest.current.cancelOnUnmount) run.job.cancel().catch(ignore);
    };
  }, [runRef, latest]);
}

type Update<E extends EndpointId> = (run: Run<E>, change: (p: Progress) => Progress) => void;

/** Follows one job to its result, reporting its progress while this run is the current one. */
async function follow<E extends EndpointId>(
  run: Run<E>,
  update: Update<E>,
  // A ref: the callbacks of the latest render, read at each event.
  callbacks: { readonly current: { onEnqueue?: (requestId: string) => void; onQueueUpdate?: (status: QueueStatus) => void } },
): Promise<KontextResult<E>> {
  const { job, controller } = run;
  const { signal } = controller;
  const requestId = await untilAborted(job.requestId, signal);
  run.requestId = requestId;
  update(run, (p) => ({ ...p, requestId, phase: p.phase === "submitting" ? "IN_QUEUE" : p.phase }));
  if (!signal.aborted) callbacks.current.onEnqueue?.(requestId);
  for await (const status of job.statuses({ signal })) {
    update(run, (p) => ({
      ...p,
      queueStatus: status,
      // COMPLETED here means the result is being fetched; `status` says COMPLETED once `data` is there.
      phase: status.status === "IN_QUEUE" ? "IN_QUEUE" : "IN_PROGRESS",
      logs: mergeLogs(p.logs, status.logs),
    }));
    callbacks.current.onQueueUpdate?.(status);
  }
  return job.result({ signal });
}

/** The hook's answer: the progress and the mutation, with `data` narrowed by `status`. */
function shape<E extends EndpointId>(
  progress: Progress,
  mutation: UseMutationResult<KontextResult<E>, Error, KontextInput<E>>,
  actions: Pick<UseKontextBase<E>, "cancel" | "reset" | "job">,
): UseKontextResult<E> {
  const status = statusOf(progress, mutation.status);
  const base: UseKontextBase<E> = {
    ...actions,
    submit: mutation.mutate,
    submitAsync: mutation.mutateAsync,
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

/** `promise`, or the signal's reason as soon as it aborts (the promise is left to settle on its own). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function statusOf(progress: Progress, mutationStatus: UseMutationResult["status"]): KontextStatus {
  if (progress.cancelled) return "cancelled";
  if (mutationStatus === "error") return "error";
  if (mutationStatus === "success") return "COMPLETED";
  if (mutationStatus === "pending") return progress.phase === "idle" ? "submitting" : progress.phase;
  return "idle";
}

/**
 * The one place the runner touches the client: submit a job, or follow one whose request id is known.
 * HOW a single job is followed (the status stream, reopening a silent one, falling back to polling,
 * the result fetch) is the client's job handle's business; the runner only decides WHAT to run.
 * With a client that has the job handle (`client.start` / `client.job`) it is used as is; an older
 * client (only `submit` / `status` / `result`) is followed by polling.
 */
import type { EndpointId, KontextInput, KontextLiteClient, KontextResult, QueueStatus } from "@kontext-sdk/client";
import { sleep } from "@kontext-sdk/schema/protocol";

/** How jobs are waited for: `stream` for a few jobs, `poll` for many (fewer open connections). */
export type FollowMode = "stream" | "poll";

export interface FollowOptions {
  mode?: FollowMode;
  /** A fixed poll interval in ms instead of the client's adaptive one. */
  pollInterval?: number;
  signal?: AbortSignal;
}

/** `signal` stops the waiting only: a submit already sent is let finish, so its request id is recorded. */
export interface StartOptions extends FollowOptions {
  webhookUrl?: string;
}

/** A job on its way: its request id once the submit answered, and its result once it finished. */
export interface EngineJob<E extends EndpointId = EndpointId> {
  requestId: Promise<string>;
  result(): Promise<KontextResult<E>>;
}

export interface JobEngine {
  /** Submits at once. `requestId` rejects with the submit's error. */
  start<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: StartOptions): EngineJob<E>;
  /** Follows a job by id; never submits. */
  follow<E extends EndpointId>(endpoint: E, requestId: string, options?: FollowOptions): EngineJob<E>;
}

/** The job handle's shape (`@kontext-sdk/client` ≥ the release that added `start`/`job`). */
interface JobHandle<E extends EndpointId> {
  requestId: Promise<string>;
  result(options?: { signal?: AbortSignal }): Promise<KontextResult<E>>;
  statuses?(options?: unknown): AsyncIterable<QueueStatus>;
}
interface JobCapableClient {
  start<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: Record<string, unknown>): JobHandle<E>;
  job<E extends EndpointId>(endpoint: E, requestId: string, options?: Record<string, unknown>): JobHandle<E>;
}

const hasJobHandle = (client: unknown): client is JobCapableClient =>
  typeof (client as JobCapableClient).start === "function" && typeof (client as JobCapableClient).job === "function";

/** The engine over a client: its job handle when it has one, polling otherwise. */
export function clientEngine(client: KontextLiteClient): JobEngine {
  if (hasJobHandle(client)) {
    const options = (o: FollowOptions & { webhookUrl?: string } = {}) => ({
      ...(o.mode ? { mode: o.mode } : {}),
      ...(o.pollInterval !== undefined ? { pollInterval: o.pollInterval } : {}),
      ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
    });
    const wrap = <E extends EndpointId>(job: JobHandle<E>, signal?: AbortSignal): EngineJob<E> => ({
      requestId: job.requestId,
      result: () => job.result(signal ? { signal } : {}),
    });
    return {
      start: (endpoint, input, o) => wrap(client.start(endpoint, input, options(o)), o?.signal),
      follow: (endpoint, requestId, o) => wrap(client.job(endpoint, requestId, options(o)), o?.signal),
    };
  }
  return pollingEngine(client);
}

/** For a client without the job handle: submit, then poll `status` until COMPLETED, then `result`. */
function pollingEngine(client: KontextLiteClient): JobEngine {
  const follow = <E extends EndpointId>(endpoint: E, requestId: string, o: FollowOptions = {}) => {
    let wait = o.pollInterval ?? 250;
    const signal = o.signal;
    return async (): Promise<KontextResult<E>> => {
      for (;;) {
        const status = await client.status(endpoint, requestId, signal ? { signal } : {});
        if (status.status === "COMPLETED") return client.result(endpoint, requestId, signal ? { signal } : {});
        await sleep(wait, signal);
        if (o.pollInterval === undefined) wait = Math.min(2_500, wait * 1.5);
      }
    };
  };
  return {
    start(endpoint, input, o = {}) {
      const requestId = client.submit(endpoint, input, o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}).then((s) => s.requestId);
      // Attach a handler now: a failed submit is read through `requestId`, not reported as unhandled here.
      requestId.catch(() => {});
      return { requestId, result: async () => follow(endpoint, await requestId, o)() };
    },
    follow: (endpoint, requestId, o) => ({ requestId: Promise.resolve(requestId), result: follow(endpoint, requestId, o) }),
  };
}

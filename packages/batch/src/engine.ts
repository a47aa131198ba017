/**
 * The one place the runner touches the client: submit a job, or follow one whose request id is known,
 * both through the client's job handle (`client.start` / `client.job`). HOW a single job is followed
 * (the status stream, reopening a silent one, falling back to polling, the single result fetch) is
 * the job handle's business; the runner only decides WHAT to run. Kept as a small interface so tests
 * and other queues (BullMQ) can drive the same runner logic.
 */
import type { EndpointId, KontextInput, KontextLiteClient, KontextResult } from "@kontext-sdk/client";

/** How jobs are waited for: `stream` for a few jobs, `poll` for many (fewer open connections). */
export type FollowMode = "stream" | "poll";

export interface FollowOptions {
  mode?: FollowMode;
  /** A fixed poll interval in ms instead of the client's adaptive one. */
  pollInterval?: number;
  /** Stops the waiting (not the job). */
  signal?: AbortSignal;
}

/** How a batch follows its jobs: a poll interval of 0 or none leaves the client's adaptive one. */
export function followOptions(mode: FollowMode, pollInterval: number | undefined): FollowOptions {
  return { mode, ...(pollInterval ? { pollInterval } : {}) };
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

/** The engine over a client's job handle; `submitDefaults` go with every submit. */
export function clientEngine(client: KontextLiteClient, submitDefaults: { maxQueueLength?: number } = {}): JobEngine {
  const follow = (o: FollowOptions = {}) => ({
    ...(o.mode ? { mode: o.mode } : {}),
    ...(o.pollInterval !== undefined ? { pollInterval: o.pollInterval } : {}),
  });
  return {
    start(endpoint, input, o = {}) {
      // No signal on the submit itself: once sent it should answer, so its id reaches the journal.
      const job = client.start(endpoint, input, {
        ...follow(o),
        ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
        ...(submitDefaults.maxQueueLength !== undefined ? { maxQueueLength: submitDefaults.maxQueueLength } : {}),
      });
      return { requestId: job.requestId, result: () => job.result(o.signal ? { signal: o.signal } : {}) };
    },
    follow(endpoint, requestId, o = {}) {
      const job = client.job(endpoint, requestId, follow(o));
      return { requestId: job.requestId, result: () => job.result(o.signal ? { signal: o.signal } : {}) };
    },
  };
}

/**
 * Following a queued job to its end: the status stream first, reopened when it goes silent, then
 * adaptive polling when the stream breaks, is not served, or stays silent too often. Errors end it:
 * the transport has already retried what was worth retrying, so whatever reaches here is final.
 */
import type { QueueStatus } from "@kontext-sdk/schema";
import { sleep } from "@kontext-sdk/schema/protocol";
import { KontextApiError } from "./errors.js";
import { type JobUrls, type QueueCalls, streamUrlOf } from "./queue.js";
import { IDLE, isFinalStatus } from "./stream.js";
import type { FollowOptions } from "./types.js";

/**
 * Adaptive polling, used when `mode: "poll"` is asked for or the status stream breaks. The first check
 * comes 250 ms after submit, each quiet wait is 1.5× the last, capped at 2.5 s; when the job starts
 * running the wait drops back to 250 ms, because queue time says nothing about run time. Short jobs are
 * seen finishing quickly; long ones cost a request every 2.5 s instead of every 0.5 s (fal-js's fixed rate).
 */
export const POLL_BACKOFF = { initial: 250, factor: 1.5, max: 2500 } as const;

/**
 * How long a status stream may stay silent before it is reopened. fal sends an event per change, so a
 * long queue or a long run can be quiet, while a half-open connection would hang the job for good.
 * A silent stream is reopened (a fresh stream starts with the current status) up to STREAM_REOPENS times
 * per job; the next silence moves the job to polling. So a job costs at most 1 + STREAM_REOPENS stream
 * requests, and a host whose streams stall still finishes it.
 */
export const STREAM_IDLE_MS = 30_000;
export const STREAM_REOPENS = 2;

/** The wait before the next status poll, given the last wait and the previous and current status. */
export const nextPollWait = (wait: number, previous: string, current: string) =>
  current !== previous && current === "IN_PROGRESS"
    ? POLL_BACKOFF.initial
    : Math.min(POLL_BACKOFF.max, wait * POLL_BACKOFF.factor);

// Defined next to the stream reader, which ends a stream at the same statuses.
export { isFinalStatus } from "./stream.js";

/** What a job knows while it is followed, shared by every follower of the same job. */
export interface FollowState {
  requestId: string;
  urls: JobUrls;
  /** The last status seen (the submit's IN_QUEUE after a submit; nothing yet on a resumed job). */
  last?: string;
  /** Stream silences so far; the budget (STREAM_REOPENS) is per job, not per follower. */
  silences: number;
}

export interface FollowRun extends FollowOptions {
  signal?: AbortSignal;
}

/** The job's statuses until a final one; throws the first error that is not a broken stream. */
export async function* followStatuses(queue: QueueCalls, state: FollowState, options: FollowRun): AsyncGenerator<QueueStatus> {
  if (options.mode !== "poll" && (yield* fromStream(queue, state, options))) return;
  yield* byPolling(queue, state, options);
}

/**
 * Reads status streams until a final status (true) or until streaming is given up (false: poll instead).
 * 401/403 are final (polling would be refused too); any other failure to stream (a 404 for a host that
 * does not serve streams, a dropped connection, a garbled event) moves to polling, whose own first answer
 * then tells whether the job exists.
 */
async function* fromStream(queue: QueueCalls, state: FollowState, options: FollowRun): AsyncGenerator<QueueStatus, boolean> {
  const { signal, logs } = options;
  for (;;) {
    const events = queue.stream(streamUrlOf(state.urls.statusUrl), {
      logs,
      signal,
      requestId: state.requestId,
      idleMs: STREAM_IDLE_MS,
    });
    try {
      for (;;) {
        let next: IteratorResult<QueueStatus, typeof IDLE | undefined>;
        try {
          next = await events.next();
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          if (error instanceof KontextApiError && (error.status === 401 || error.status === 403)) throw error;
          return false;
        }
        if (next.done && next.value !== IDLE) return true;
        if (next.done) {
          if (++state.silences > STREAM_REOPENS) return false;
          break; // reopen
        }
        state.last = next.value.status;
        // Outside the catch: an error thrown by the consumer is the caller's, not a broken stream.
        yield next.value;
      }
    } finally {
      await events.return(undefined);
    }
  }
}

/** Polls until a final status; the first poll of a resumed job with no status known yet goes out at once. */
async function* byPolling(queue: QueueCalls, state: FollowState, options: FollowRun): AsyncGenerator<QueueStatus> {
  const { signal, logs, pollInterval } = options;
  let wait = pollInterval ?? POLL_BACKOFF.initial;
  let immediate = state.last === undefined;
  for (;;) {
    if (!immediate) await sleep(wait, signal);
    immediate = false;
    const previous = state.last ?? "IN_QUEUE";
    const status = await queue.status(state.urls.statusUrl, { logs, signal, requestId: state.requestId });
    state.last = status.status;
    yield status;
    if (isFinalStatus(status)) return;
    if (pollInterval === undefined) wait = nextPollWait(wait, previous, status.status);
  }
}

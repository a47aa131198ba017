/**
 * fal's `status/stream`: server-sent events, one JSON QueueStatus per `data`, read from the fetch body so it
 * works wherever fetch does (no EventSource: it cannot send Authorization). The SSE format itself is the
 * protocol core's parser; this module adds what following a job needs: idleness, a line cap, typed errors.
 */
import type { QueueStatus } from "@kontext-sdk/schema";
import { createSseParser, type SseMessage } from "@kontext-sdk/schema/protocol";
import { KontextApiError, KontextNetworkError, requestIdOf } from "./errors.js";

/** True once a status says the job is over: COMPLETED, or a status fal does not document (the result tells). */
export const isFinalStatus = (status: QueueStatus) => status.status !== "IN_QUEUE" && status.status !== "IN_PROGRESS";

/** What `readStatusStream` returns when no event arrived for `idleMs`. */
export const IDLE = "idle";

export interface StreamReadOptions {
  signal?: AbortSignal;
  /** Ends the stream with IDLE after this long without an event or comment (0: never). */
  idleMs?: number;
  /** The longest line accepted while waiting for its end, in characters (a stream is not a body to buffer). */
  maxLineLength?: number;
  /** The job's id, for errors (rather than whatever the answer's header says). */
  requestId?: string;
}

/**
 * The statuses of one stream, ending after COMPLETED. A stream that closes early, or sends something
 * that is not a status, throws a retryable KontextApiError (a connection lost mid-stream:
 * KontextNetworkError), which the job answers by falling back to polling.
 *
 * Idleness counts messages, not bytes: `idleMs` without a complete event or comment ends the stream with
 * IDLE, even if bytes trickle in without a line end, so neither a half-open connection nor a server
 * dribbling one byte a second can hang a job. The job then reopens the stream (bounded) or polls.
 */
export async function* readStatusStream(
  response: Response,
  { signal, idleMs = 0, maxLineLength = 1 << 20, requestId: askedId }: StreamReadOptions = {},
): AsyncGenerator<QueueStatus, typeof IDLE | undefined> {
  const reader = response.body?.getReader();
  const requestId = requestIdOf(response, askedId);
  const broken = (why: string, body?: unknown) =>
    new KontextApiError(`status stream: ${why}`, { status: response.status, body, requestId, retryable: true });
  if (!reader) throw broken("no body");
  const pending: SseMessage[] = [];
  const feed = createSseParser((message) => pending.push(message));
  const decoder = new TextDecoder();
  // The body outlives the fetch call's own abort wiring, so the caller's signal is watched here too.
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let idle: Promise<undefined> | undefined;
  // Restarted on every message; a read that brings only part of a line leaves it running.
  const restartIdle = () => {
    clearTimeout(idleTimer);
    idle = idleMs > 0 ? new Promise((resolve) => (idleTimer = setTimeout(() => resolve(undefined), idleMs))) : undefined;
  };
  restartIdle();
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const reading = reader.read().catch((error) => {
        throw signal?.aborted ? signal.reason : new KontextNetworkError(`status stream: ${error}`, error, requestId);
      });
      const read = await (idle ? Promise.race([reading, idle]) : reading);
      if (signal?.aborted) throw signal.reason;
      if (!read) return IDLE;
      if (read.done) throw broken("closed before COMPLETED");
      if (feed(decoder.decode(read.value, { stream: true })) > maxLineLength) throw broken("a line longer than the limit");
      if (pending.length) restartIdle();
      for (const message of pending.splice(0)) {
        if (!("data" in message)) continue;
        const status = parseStatus(message.data, broken);
        yield status;
        // COMPLETED ends it; so does any status fal does not document (FAILED in some gateways): the result tells.
        if (isFinalStatus(status)) return;
      }
    }
  } finally {
    clearTimeout(idleTimer);
    signal?.removeEventListener("abort", onAbort);
    reader.cancel().catch(() => {});
  }
}

function parseStatus(data: string, broken: (why: string, body?: unknown) => KontextApiError): QueueStatus {
  let status: QueueStatus;
  try {
    status = JSON.parse(data);
  } catch {
    throw broken("unreadable event", data.slice(0, 120));
  }
  if (typeof status?.status !== "string") throw broken("an event without a status", status);
  return status;
}

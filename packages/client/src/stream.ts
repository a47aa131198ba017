import type { QueueStatus } from "@kontext-sdk/schema";
import { createParser } from "eventsource-parser";
import { KontextApiError, KontextNetworkError } from "./errors.js";

/** What `readStatusStream` returns when nothing arrived for `idleMs`. */
export const IDLE = "idle";

/**
 * The events of fal's `status/stream` (one JSON QueueStatus per `data`), parsed by eventsource-parser
 * from the fetch body, so it works wherever fetch does (no EventSource: it cannot send Authorization).
 * Ends after COMPLETED. A stream that closes early, or sends something that is not a status, throws a
 * retryable KontextApiError (a connection lost mid-stream: KontextNetworkError), which `subscribe` answers
 * by falling back to polling. Silence for `idleMs` (subscribe passes STREAM_IDLE_MS) ends it with `IDLE`,
 * so a half-open connection cannot hang a job forever; subscribe then reopens the stream.
 */
export async function* readStatusStream(
  response: Response,
  signal?: AbortSignal,
  idleMs = 0,
): AsyncGenerator<QueueStatus, typeof IDLE | undefined> {
  const reader = response.body?.getReader();
  const requestId = response.headers.get("x-fal-request-id") ?? undefined;
  const broken = (why: string, body?: unknown) =>
    new KontextApiError(`status stream: ${why}`, { status: response.status, body, requestId, retryable: true });
  if (!reader) throw broken("no body");
  const pending: string[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event.data) });
  const decoder = new TextDecoder();
  // The body outlives the fetch call's own abort wiring, so the caller's signal is watched here too.
  const onAbort = () => reader.cancel(signal!.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      let idle: ReturnType<typeof setTimeout> | undefined;
      const read = await Promise.race([
        reader.read().catch((error) => {
          throw signal?.aborted ? signal.reason : new KontextNetworkError(`status stream: ${error}`, error, requestId);
        }),
        new Promise<undefined>((resolve) => {
          if (idleMs > 0) idle = setTimeout(() => resolve(undefined), idleMs);
        }),
      ]).finally(() => clearTimeout(idle));
      if (signal?.aborted) throw signal.reason;
      if (!read) return IDLE;
      const { done, value } = read;
      if (done) throw broken("closed before COMPLETED");
      parser.feed(decoder.decode(value, { stream: true }));
      while (pending.length) {
        const data = pending.shift()!;
        let status: QueueStatus;
        try {
          status = JSON.parse(data);
        } catch {
          throw broken("unreadable event", data.slice(0, 120));
        }
        if (!status || typeof status.status !== "string") throw broken("an event without a status", status);
        yield status;
        // COMPLETED ends it; so does any status fal does not document (FAILED in some gateways): the result tells.
        if (status.status !== "IN_QUEUE" && status.status !== "IN_PROGRESS") return;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.cancel().catch(() => {});
  }
}

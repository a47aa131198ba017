import type { QueueStatus } from "@kontext-sdk/schema";
import { createParser } from "eventsource-parser";
import { KontextApiError } from "./errors.js";

/**
 * The events of fal's `status/stream` (one JSON QueueStatus per `data`), parsed by eventsource-parser
 * from the fetch body, so it works wherever fetch does (no EventSource: it cannot send Authorization).
 * Ends after COMPLETED. A stream that closes early, or sends something that is not a status, throws a
 * retryable KontextApiError, which `subscribe` answers by falling back to polling. So does silence for
 * `idleMs` (subscribe passes STREAM_IDLE_MS): a half-open connection must not hang a job forever.
 */
export async function* readStatusStream(response: Response, signal?: AbortSignal, idleMs = 0): AsyncGenerator<QueueStatus> {
  const reader = response.body?.getReader();
  const broken = (why: string, body?: unknown) =>
    new KontextApiError(`status stream: ${why}`, {
      status: response.status,
      body,
      requestId: response.headers.get("x-fal-request-id") ?? undefined,
      retryable: true,
    });
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
      const { done, value } = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          if (idleMs > 0) idle = setTimeout(() => reject(broken(`nothing received for ${idleMs} ms`)), idleMs);
        }),
      ]).finally(() => clearTimeout(idle));
      if (signal?.aborted) throw signal.reason;
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

/**
 * The queue's per-request calls (status, status stream, result, cancel) on top of the transport, each
 * reporting the request id it was asked about.
 */
import type { CancelResponse, EndpointId, OutputOf, QueueStatus } from "@kontext-sdk/schema";
import { joinUrl, requestPath, withLogs } from "@kontext-sdk/schema/protocol";
import { KontextApiError, redactingErrors, redactingStream, type SecretsOf } from "./errors.js";
import type { Send } from "./http.js";
import { type IDLE, readStatusStream } from "./stream.js";
import type { KontextResult } from "./types.js";

/** Where one job's calls go: from the submit's answer (when on our host), or built from our base. */
export interface JobUrls {
  statusUrl: string;
  responseUrl: string;
  cancelUrl: string;
}

export interface QueueCallOptions {
  signal?: AbortSignal;
  logs?: boolean;
  /** The id the call is about (errors and results report it). */
  requestId: string;
}

export interface QueueCalls {
  /** The URLs of a job, built from the configured queue host. */
  urls(endpoint: string, requestId: string): JobUrls;
  status(url: string, options: QueueCallOptions): Promise<QueueStatus>;
  stream(url: string, options: QueueCallOptions & { idleMs?: number }): AsyncGenerator<QueueStatus, typeof IDLE | undefined>;
  result<E extends EndpointId>(url: string, options: QueueCallOptions): Promise<KontextResult<E>>;
  cancel(url: string, options: QueueCallOptions): Promise<CancelResponse>;
}

/** The stream's URL next to a status URL (fal's `status_url` plus `/stream`, without its query). */
export const streamUrlOf = (statusUrl: string) => `${statusUrl.replace(/\?.*$/, "")}/stream`;

/**
 * The calls. `secrets` is the transport's key: the status check and the stream build errors from answers
 * the transport already handed back, so they redact those themselves (see `redactingErrors`).
 */
export function createQueueCalls(send: Send, base: string, maxLineLength: number, secrets: SecretsOf = () => []): QueueCalls {
  async function status(url: string, { logs, signal, requestId }: QueueCallOptions): Promise<QueueStatus> {
    const [answer] = await send({ method: "GET", url: withLogs(url, logs), signal, requestId });
    if (typeof (answer as QueueStatus | undefined)?.status !== "string") {
      throw new KontextApiError("GET status: the answer is not a queue status", {
        status: 200,
        body: answer,
        requestId,
        retryable: true,
      });
    }
    return answer as QueueStatus;
  }

  async function* stream(url: string, { logs, signal, requestId, idleMs }: QueueCallOptions & { idleMs?: number }) {
    const [, response] = await send({ method: "GET", url: withLogs(url, logs), signal, requestId }, "stream");
    return yield* readStatusStream(response, { signal, idleMs, requestId, maxLineLength });
  }

  return {
    urls: (endpoint, requestId) => ({
      statusUrl: joinUrl(base, requestPath(endpoint, requestId, "status")),
      responseUrl: joinUrl(base, requestPath(endpoint, requestId, "result")),
      cancelUrl: joinUrl(base, requestPath(endpoint, requestId, "cancel")),
    }),

    status: (url, options) => redactingErrors(secrets, status(url, options)),

    stream: (url, options) => redactingStream(secrets, stream(url, options)),

    async result<E extends EndpointId>(url: string, { signal, requestId }: QueueCallOptions) {
      const [data] = await send({ method: "GET", url, signal, requestId });
      // The id asked about, not the answer's `x-fal-request-id`: a gateway may set that to its own id.
      return { data: data as OutputOf<E>, requestId };
    },

    async cancel(url, { signal, requestId }) {
      try {
        const [data] = await send({ method: "PUT", url, signal, requestId });
        return (data as CancelResponse | undefined) ?? { status: "CANCELLATION_REQUESTED" };
      } catch (error) {
        // fal documents ALREADY_COMPLETED and NOT_FOUND as cancel outcomes; some hosts send them with a 4xx.
        const answered = (error as KontextApiError).body as CancelResponse | undefined;
        if (answered?.status === "ALREADY_COMPLETED" || answered?.status === "NOT_FOUND") return { status: answered.status };
        throw error;
      }
    },
  };
}

/**
 * Webhook mode: fal POSTs each job's outcome to a URL given at submit, so nothing polls. Deliveries are
 * verified (`receiveWebhook` from `@kontext-sdk/client/webhooks`: fal's Ed25519 signature) before
 * they complete a job. Deliveries can be late or lost (fal retries for about two hours), so a sweep
 * follows any job whose delivery has not come after `lateAfterMs`, by request id, never submitting again.
 */
import { createServer, type Server } from "node:http";
import { type EndpointId, KontextApiError, type KontextResult, type OutputOf } from "@kontext-sdk/client";
import { toNodeHandler } from "@kontext-sdk/client/proxy";
import { type ReceivedWebhook, receiveWebhook, type VerifyWebhookOptions, type WebhookInput } from "@kontext-sdk/client/webhooks";
import type { JobEngine } from "./engine.js";

export interface WebhookModeOptions {
  /** The URL fal delivers to. Default: the local listener's own URL (`listen` required then). */
  url?: string;
  /** Start a listener for deliveries on this port and host (default host 127.0.0.1). */
  listen?: { port?: number; host?: string; path?: string };
  /** How deliveries are verified (keys, JWKS URL, tolerance); default: fal's JWKS. */
  verify?: VerifyWebhookOptions;
  /** A job with no delivery this long after its submit is followed by request id. Default 60 s. */
  lateAfterMs?: number;
  /** How often late jobs are looked for. Default lateAfterMs / 4. */
  sweepEveryMs?: number;
}

interface Waiting {
  endpoint: EndpointId;
  since: number;
  swept: boolean;
  resolve(result: KontextResult<EndpointId>): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: KontextResult<EndpointId> } | { ok: false; error: unknown };

/** Deliveries that arrived before their job was waited for are kept, up to this many. */
const EARLY_LIMIT = 10_000;

export class WebhookInbox {
  readonly lateAfterMs: number;
  private readonly waiting = new Map<string, Waiting>();
  private readonly early = new Map<string, Outcome>();
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  /** Deliveries accepted, refused (bad signature or payload), and jobs the sweep had to follow. */
  readonly counts = { delivered: 0, refused: 0, swept: 0 };

  constructor(
    private readonly engine: JobEngine,
    private readonly options: WebhookModeOptions = {},
  ) {
    this.lateAfterMs = options.lateAfterMs ?? 60_000;
    const every = options.sweepEveryMs ?? Math.max(50, this.lateAfterMs / 4);
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref?.();
  }

  /** Resolves with the job's output when its delivery comes (or the sweep fetched it). */
  wait<E extends EndpointId>(endpoint: E, requestId: string): Promise<KontextResult<E>> {
    const early = this.early.get(requestId);
    if (early) {
      this.early.delete(requestId);
      return early.ok ? Promise.resolve(early.result as KontextResult<E>) : Promise.reject(early.error);
    }
    return new Promise<KontextResult<E>>((resolve, reject) => {
      this.waiting.set(requestId, {
        endpoint,
        since: Date.now(),
        swept: false,
        resolve: resolve as Waiting["resolve"],
        reject,
      });
    });
  }

  /**
   * Handles one delivery: verified and parsed, it completes its job. Answers the HTTP status to send
   * back: 200 for a good delivery (also for a job this runner is not waiting for, so fal stops
   * retrying), 400 for a body that is not a fal payload, 413 for one over `verify.maxBodyBytes`,
   * 503 when fal's keys could not be fetched (not the sender's fault: fal retries a 5xx later),
   * and 401 for every other refusal (missing or bad signature headers, a forged signature).
   */
  async deliver(input: WebhookInput): Promise<number> {
    const received = await receiveWebhook(input, this.options.verify ?? {});
    if (!received.ok) {
      this.counts.refused++;
      return refusalStatus(received.reason);
    }
    this.counts.delivered++;
    const { webhook } = received;
    const outcome: Outcome = webhook.ok
      ? { ok: true, result: { data: webhook.payload as OutputOf<EndpointId>, requestId: webhook.requestId } }
      : {
          ok: false,
          error: new KontextApiError(`the job failed (webhook): ${webhook.error}`, {
            status: Number(/\b(\d{3})\b/.exec(webhook.error)?.[1] ?? 500),
            body: webhook.payload,
            requestId: webhook.requestId,
            retryable: false,
          }),
        };
    this.settle(webhook.requestId, outcome);
    return 200;
  }

  /** Stops the sweep; jobs still waiting stay in the journal as submitted, for a resume. */
  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private settle(requestId: string, outcome: Outcome) {
    const entry = this.waiting.get(requestId);
    if (!entry) {
      this.early.set(requestId, outcome);
      if (this.early.size > EARLY_LIMIT) this.early.delete(this.early.keys().next().value!);
      return;
    }
    this.waiting.delete(requestId);
    if (outcome.ok) entry.resolve(outcome.result);
    else entry.reject(outcome.error);
  }

  private sweep() {
    const now = Date.now();
    for (const [requestId, entry] of this.waiting) {
      if (entry.swept || now - entry.since < this.lateAfterMs) continue;
      entry.swept = true;
      this.counts.swept++;
      this.engine
        .follow(entry.endpoint, requestId, { mode: "poll" })
        .result()
        .then(
          (result) => this.settle(requestId, { ok: true, result }),
          (error: unknown) => this.settle(requestId, { ok: false, error }),
        );
    }
  }
}

export interface WebhookListener {
  /** The listener's URL (deliveries go to `${origin}${path}`). */
  url: string;
  close(): Promise<void>;
}

/** The HTTP status for a refused delivery; only a 5xx makes fal deliver it again later. */
function refusalStatus(reason: WebhookRejectionReason): number {
  if (reason === "invalid_payload") return 400;
  if (reason === "body_too_large") return 413;
  if (reason === "jwks_unavailable") return 503;
  return 401;
}

type WebhookRejectionReason = Extract<ReceivedWebhook, { ok: false }>["reason"];

/**
 * A `node:http` listener that hands each POST to the inbox as a web `Request` whose body streams from
 * the socket: the signature headers are checked before any of the body is read, so an unsigned POST
 * is answered without reading it, and a signed one is read through the `maxBodyBytes` cap rather than
 * collected whole first.
 */
export async function listenForWebhooks(
  inbox: WebhookInbox,
  options: { port?: number; host?: string; path?: string } = {},
): Promise<WebhookListener> {
  const path = options.path ?? "/webhook";
  const deliver = toNodeHandler(async (request) => {
    const status = await inbox.deliver(request).catch(() => 500);
    return new Response(null, { status });
  });
  const server: Server = createServer((request, response) => {
    if (request.method !== "POST" || request.url?.split("?")[0] !== path) {
      response.writeHead(404).end();
      return;
    }
    void deliver(request, response);
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `fal_webhook` deliveries: fal's payload POSTed when a job completes, signed, retried on the mock's
 * clock when asked, each attempt recorded in `mock.webhooks`. Targets are checked at submit: a mock on a
 * developer's machine must not become a way to make signed POSTs to any host a web page names (blind SSRF),
 * so with the global fetch only loopback hosts are allowed unless `allowWebhookHosts` says otherwise.
 */
import type { KontextOutput, WebhookPayload } from "@kontext-sdk/schema";
import { WEBHOOK_HEADERS } from "@kontext-sdk/schema/protocol";
import { resultOf } from "./answers.js";
import type { CancelTimer, MockClock } from "./clock.js";
import type { Job } from "./job.js";
import type { WebhookSigner } from "./webhook-signer.js";

export interface WebhookDelivery {
  url: string;
  payload: WebhookPayload;
  /** 1 for the first attempt, 2 for the first retry, and so on (see `webhookRetry`). */
  attempt: number;
  /** The headers sent (the `x-fal-webhook-*` signature headers among them when signed). */
  headers: Record<string, string>;
  /** False when signing is off, or the runtime cannot sign with Ed25519 (then sent unsigned). */
  signed: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why the delivery failed, when it did. */
  error?: string;
}

export interface WebhookDispatcherOptions {
  clock: MockClock;
  setTimer(callback: () => void, ms: number): CancelTimer;
  /** The fetch deliveries go through; undefined for the global fetch (then targets are restricted). */
  fetch: typeof fetch | undefined;
  signer: WebhookSigner | undefined;
  retry: { retries: number; delayMs?: number } | undefined;
  /** Hosts deliveries may go to besides loopback, or `"*"` for any. */
  allowHosts: readonly string[] | "*" | undefined;
  /** Deliveries kept in the record. */
  maxRecorded: number;
}

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly send: typeof fetch;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.send = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  }

  /** Why the mock refuses to deliver to `url`, or undefined when it will. */
  refusal(url: string): string | undefined {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return "Input should be a valid URL";
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") return "URL scheme should be 'http' or 'https'";
    const allowed = this.options.allowHosts ?? (this.options.fetch ? "*" : []);
    if (allowed === "*" || isLoopbackHost(target.hostname)) return undefined;
    if (allowed.some((host) => host.toLowerCase() === target.hostname.toLowerCase())) return undefined;
    return `the mock delivers webhooks only to loopback hosts; allow ${target.hostname} with allowWebhookHosts`;
  }

  /** (Re)schedules the delivery for when the job completes. */
  scheduleCompletion(job: Job): void {
    job.dispose();
    if (!job.webhookUrl) return;
    this.schedule(job, Math.max(0, job.completedAt - this.options.clock.now()), () => this.deliver(job, 1));
  }

  clear(): void {
    this.deliveries.length = 0;
  }

  /** Runs `callback` after `ms` on the mock's clock, as one of the job's timers (so expiry and reset cancel it). */
  private schedule(job: Job, ms: number, callback: () => unknown): void {
    const cancel = this.options.setTimer(() => {
      job.timers.delete(cancel);
      void callback();
    }, ms);
    job.timers.add(cancel);
  }

  private async deliver(job: Job, attempt: number): Promise<void> {
    const payload = payloadOf(job);
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { "content-type": "application/json", [WEBHOOK_HEADERS.requestId]: job.requestId };
    const delivery: WebhookDelivery = { url: job.webhookUrl!, attempt, payload, headers, signed: false };
    this.deliveries.push(delivery);
    if (this.deliveries.length > this.options.maxRecorded) this.deliveries.shift();
    try {
      if (this.options.signer) {
        // A runtime without Ed25519 in WebCrypto still gets the delivery, unsigned (`signed: false`).
        const signature = await this.options.signer.headers(job.requestId, body).catch(() => undefined);
        if (signature) Object.assign(headers, signature);
        delivery.signed = !!signature;
      }
      const response = await this.send(job.webhookUrl!, { method: "POST", headers, body });
      // The answer's body is not needed; dropping it without waiting keeps "answered" and "retry scheduled"
      // in the same tick, so whoever sees the status also sees the next attempt's timer.
      response.body?.cancel().catch(() => {});
      delivery.status = response.status;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
    const delivered = delivery.status !== undefined && delivery.status >= 200 && delivery.status < 300;
    if (!delivered && attempt <= (this.options.retry?.retries ?? 0)) {
      this.schedule(job, this.options.retry?.delayMs ?? 1_000, () => this.deliver(job, attempt + 1));
    }
  }
}

/** fal's webhook body: the output on success, the error body (and `error`) on failure. */
function payloadOf(job: Job): WebhookPayload {
  const result = resultOf(job, job.base);
  const ids = { request_id: job.requestId, gateway_request_id: job.requestId };
  if (result.status === 200) return { ...ids, status: "OK", payload: result.body as KontextOutput };
  return {
    ...ids,
    status: "ERROR",
    error: `Invalid status code: ${result.status}`,
    payload: result.body as WebhookPayload["payload"],
  };
}

/** `localhost` (and `*.localhost`), 127.0.0.0/8 and `::1`: hosts that never leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(host) || host === "::1";
}

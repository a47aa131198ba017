/**
 * `createKontextMock`: the simulator as one web-standard handler. This module holds the options and
 * wires the parts together; handler.ts routes each request to its operation:
 *
 *   job-store.ts         the live jobs, request ids, expiry, the concurrency limit
 *   timeline.ts / job.ts how a job moves through the queue, read from the clock
 *   router.ts            which operation a request asks for
 *   operations/*.ts      one handler per operation (submit, run, status/result, stream, cancel, files)
 *   fault-responses.ts   what a fired fault answers
 *   webhook-delivery.ts  `fal_webhook` deliveries, signed, retried, restricted to allowed hosts
 *   request-log.ts       `mock.requests`, bounded, credentials redacted
 *
 * The MSW handlers, the node:http server and `mock.fetch` only adapt it.
 */
import { resultOf } from "./answers.js";
import { MAX_BODY_BYTES } from "./body.js";
import { type MockClock, realClock, timerOf } from "./clock.js";
import type { MockState, ValidateAt } from "./context.js";
import { KontextMockError } from "./errors.js";
import { type FaultRule, FaultSet } from "./faults.js";
import { createHandler, type MockParts } from "./handler.js";
import type { Job, MockJob } from "./job.js";
import { JobStore } from "./job-store.js";
import { fetchFor } from "./mock-fetch.js";
import { type RecordedRequest, RequestLog } from "./request-log.js";
import type { RouteContext } from "./router.js";
import { createStorageSimulator, type StorageOptions, type StoredFile } from "./storage.js";
import { resolveTimeline, type Timeline } from "./timeline.js";
import { type WebhookDelivery, WebhookDispatcher } from "./webhook-delivery.js";
import { createWebhookSigner, type MockWebhookJwks, type WebhookSigningOptions } from "./webhook-signer.js";

export type { ValidateAt } from "./context.js";
export type { JobFailure, JobState, MockJob } from "./job.js";
export { isConnectionReset } from "./mock-fetch.js";
export type { RecordedRequest } from "./request-log.js";
export type { RouteContext } from "./router.js";
export type { WebhookDelivery } from "./webhook-delivery.js";

export interface KontextMockOptions {
  /** How a job moves: IN_QUEUE steps, IN_PROGRESS steps, step length (defaults 2, 3, 200 ms). */
  timeline?: Timeline;
  /** Time source; default real time. Use `createManualClock()` in tests. */
  clock?: MockClock;
  /** "required" (default): `Authorization: Key <x>` or `Bearer <x>`, else 401. "any": accept anything. */
  auth?: "required" | "any";
  /**
   * Where a submit's input is validated. `"result"` (default) is fal's behaviour: any readable JSON is
   * accepted (200 IN_QUEUE), the job ends COMPLETED with `error`/`error_type` on its status, and its
   * result answers 422 with the field errors. `"submit"` answers the 422 at submit, as some gateways do.
   * Sync runs answer the 422 at once either way (their answer is the result).
   */
  validateAt?: ValidateAt;
  /**
   * How many jobs may be IN_PROGRESS at once, as fal's per-account concurrency limit (2 for a new
   * account; only running jobs count). The others wait IN_QUEUE, first come first served, with a
   * `queue_position` counting the jobs waiting ahead. Default: no limit.
   */
  concurrencyLimit?: number;
  /** Fault rules applied from the start; more with `mock.addFault`. */
  faults?: FaultRule[];
  /**
   * Completed jobs (and their files) are forgotten this long after completion, whatever their size. Default:
   * fal's retention (`resultRetention`).
   */
  completedTtlMs?: number;
  /**
   * fal keeps a result 1 hour after the job completes, but only 6 minutes when it is 10 kB or more
   * (fal docs, queue "Get request result"), e.g. `sync_mode` data URIs. Past that the mock forgets the
   * request: status, result and cancel answer the flat 404 of an unknown id. Shorten both in tests.
   */
  resultRetention?: { ms?: number; largeMs?: number; largeBytes?: number };
  /**
   * A status stream that has sent nothing for this long gets an SSE comment (`: keep-alive`), so
   * clients and proxies can tell a quiet job from a dead connection (default 10 s).
   */
  streamKeepAliveMs?: number;
  /** Request bodies larger than this are refused with 413 without being read (default: the spec's 10 MiB). */
  maxBodyBytes?: number;
  /** How many requests `mock.requests` keeps, newest last (default 10,000). */
  maxRecordedRequests?: number;
  /** Bytes of each request body `mock.requests` keeps; larger bodies are kept in summary (default 64 KiB). */
  maxRecordedBodyBytes?: number;
  /** Used to POST `fal_webhook` deliveries (default: the global fetch, to loopback hosts only). */
  webhookFetch?: typeof fetch;
  /**
   * Hosts `fal_webhook` deliveries may go to besides loopback (`localhost`, 127.0.0.0/8, `::1`), or `"*"`
   * for any. Default: loopback only with the global fetch (a mock on a developer's machine must not POST
   * signed requests wherever a web page asks), any host when `webhookFetch` is given (the test delivers).
   * A refused target is a 422 at submit naming `fal_webhook`.
   */
  allowWebhookHosts?: readonly string[] | "*";
  /**
   * Deliveries are signed as fal signs them (Ed25519, `X-Fal-Webhook-*` headers) with a key made per mock,
   * published by `mock.webhookJwks()` and at `/.well-known/jwks.json`. Options set the user id or key;
   * `false` sends them unsigned.
   */
  webhookSigning?: WebhookSigningOptions | false;
  /**
   * Deliver again after a failed attempt (no answer, or not 2xx), as fal does (it tries 10 more times over
   * about 2 hours): `retries` more attempts, `delayMs` apart on the mock's clock (default 1,000 ms).
   * Default: one attempt. Retries stop when the job expires or the mock is reset.
   */
  webhookRetry?: { retries: number; delayMs?: number };
  /** Seeds request ids and fault probabilities, for fully repeatable runs. */
  seed?: number;
  /**
   * fal's storage flow (`/storage/upload/initiate`, signed PUTs, parts, served files): the largest upload
   * (default 256 MiB) and how long files are kept without a lifecycle preference (default 7 days).
   */
  storage?: StorageOptions;
}

export type MockHandler = (request: Request, context?: RouteContext) => Promise<Response>;

export interface KontextMock {
  (request: Request, context?: RouteContext): Promise<Response>;
  /** The same handler, for APIs that want a named property. */
  handler: MockHandler;
  /** A fetch to inject into a client; answers every URL from the mock, no network involved. */
  fetch: typeof fetch;
  /** Requests seen, oldest first, bounded by `maxRecordedRequests`. */
  readonly requests: RecordedRequest[];
  /** Live jobs by request id (completed ones until they expire). */
  readonly jobs: ReadonlyMap<string, MockJob>;
  /** Webhook deliveries attempted, oldest first. */
  readonly webhooks: WebhookDelivery[];
  /** The public key deliveries are signed with, as a JWKS for `verifyWebhook({ jwks })` (no keys when unsigned). */
  webhookJwks(): Promise<MockWebhookJwks>;
  addFault(rule: FaultRule): void;
  /** Forgets jobs, requests, webhooks, uploads and added faults (the option's faults are re-armed); cancels timers. */
  reset(): void;
  /** The options' clock. */
  readonly clock: MockClock;
  /** Files stored through the storage flow (complete uploads), oldest first. */
  readonly uploads: StoredFile[];
}

/** Options checked once, with a `KontextMockError` naming the option and the rule. */
function checkOptions(options: KontextMockOptions): void {
  const positiveInteger = (name: keyof KontextMockOptions, value: number | undefined) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new KontextMockError(name, `must be a whole number of at least 1 (got ${value})`);
    }
  };
  positiveInteger("concurrencyLimit", options.concurrencyLimit);
  positiveInteger("maxBodyBytes", options.maxBodyBytes);
  positiveInteger("maxRecordedRequests", options.maxRecordedRequests);
  positiveInteger("maxRecordedBodyBytes", options.maxRecordedBodyBytes);
  if (options.validateAt !== undefined && options.validateAt !== "submit" && options.validateAt !== "result") {
    throw new KontextMockError("validateAt", `must be "submit" or "result" (got ${JSON.stringify(options.validateAt)})`);
  }
  if (options.auth !== undefined && options.auth !== "required" && options.auth !== "any") {
    throw new KontextMockError("auth", `must be "required" or "any" (got ${JSON.stringify(options.auth)})`);
  }
}

/** fal's result retention (docs, queue "Get request result"): 1 hour, 6 minutes for results of 10 kB or more. */
export const FAL_RESULT_RETENTION = { ms: 60 * 60_000, largeMs: 6 * 60_000, largeBytes: 10 * 1024 } as const;

/** How long each completed job is kept: `completedTtlMs` for all, else fal's rule on the result's size. */
function retentionFor(options: KontextMockOptions): (job: Job) => number {
  const fixed = options.completedTtlMs;
  if (fixed !== undefined) return () => fixed;
  const rule = { ...FAL_RESULT_RETENTION, ...options.resultRetention };
  const sizes = new WeakMap<Job, number>();
  return (job) => {
    let size = sizes.get(job);
    if (size === undefined) {
      size = JSON.stringify(resultOf(job, "").body ?? null).length;
      sizes.set(job, size);
    }
    return size >= rule.largeBytes ? rule.largeMs : rule.ms;
  };
}

/** The parts a mock is made of, built from its options. */
function assemble(options: KontextMockOptions): MockParts {
  const clock = options.clock ?? realClock;
  const setTimer = timerOf(clock);
  const maxRecorded = options.maxRecordedRequests ?? 10_000;
  const signer = options.webhookSigning === false ? undefined : createWebhookSigner(options.webhookSigning);
  const webhooks = new WebhookDispatcher({
    clock,
    setTimer,
    fetch: options.webhookFetch,
    signer,
    retry: options.webhookRetry,
    allowHosts: options.allowWebhookHosts,
    maxRecorded,
  });
  const store = new JobStore({
    clock,
    retentionMs: retentionFor(options),
    concurrencyLimit: options.concurrencyLimit,
    seed: options.seed,
    onRescheduled: (job) => webhooks.scheduleCompletion(job),
  });
  const state: MockState = {
    clock,
    timeline: resolveTimeline(options.timeline),
    validateAt: options.validateAt ?? "result",
    keepAliveMs: options.streamKeepAliveMs ?? 10_000,
    store,
    webhooks,
    setTimer,
  };
  return {
    state,
    faults: new FaultSet(options.faults, options.seed),
    log: new RequestLog({ maxEntries: maxRecorded, maxBodyBytes: options.maxRecordedBodyBytes ?? 64 * 1024 }),
    auth: options.auth ?? "required",
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
    webhookJwks: async (): Promise<MockWebhookJwks> => (signer ? signer.jwks() : { keys: [] }),
    storage: createStorageSimulator(() => clock.now(), options.storage),
  };
}

export function createKontextMock(options: KontextMockOptions = {}): KontextMock {
  checkOptions(options);
  const parts = assemble(options);
  const handler = createHandler(parts);
  const mock = handler as KontextMock;
  Object.defineProperties(mock, {
    handler: { value: handler, enumerable: true },
    fetch: { value: fetchFor(handler), enumerable: true },
    requests: { value: parts.log.entries, enumerable: true },
    jobs: { value: parts.state.store.jobs, enumerable: true },
    webhooks: { value: parts.state.webhooks.deliveries, enumerable: true },
    webhookJwks: { value: parts.webhookJwks, enumerable: true },
    clock: { value: parts.state.clock, enumerable: true },
    uploads: { get: () => parts.storage.files(), enumerable: true },
    addFault: { value: (rule: FaultRule) => parts.faults.add(rule), enumerable: true },
    reset: {
      value: () => {
        parts.state.store.clear();
        parts.log.clear();
        parts.state.webhooks.clear();
        parts.faults.clear(options.faults);
        parts.storage.clear();
      },
      enumerable: true,
    },
  });
  return mock;
}

/**
 * The client's public shapes: options, results and the client itself. Kept apart from the code so every
 * module (transport, submit, job, run) can name them without importing each other.
 */
import type {
  CancelResponse,
  EndpointId,
  InputOf,
  OutputOf,
  paths,
  QueueStatus,
  SubmitResponse,
  ValidationResult,
} from "@kontext-sdk/schema";
import type { Client } from "openapi-fetch";
import type { Credentials } from "./credentials.js";
import type { WithBinaryImages } from "./inputs.js";
import type { RetryOptions } from "./retry.js";
import type { KontextStorage, ObjectLifecycle } from "./storage.js";

/** What an endpoint accepts: its schema input, with binary images allowed in `image_url` / `image_urls`. */
export type KontextInput<E extends EndpointId> = WithBinaryImages<InputOf<E>>;

/** A finished job: the endpoint's output and its request id (the one asked about; for sync runs, fal's header). */
export interface KontextResult<E extends EndpointId> {
  data: OutputOf<E>;
  requestId: string;
}

/** Checks an input before it is sent; `validateInput` from `@kontext-sdk/schema` is one. */
export type InputValidator = (endpoint: string, input: unknown) => ValidationResult<unknown>;

/** The typed openapi-fetch client over the queue spec's `paths`, sharing the client's auth, proxy and retries. */
export type KontextRawClient = Client<paths>;

export interface KontextClientOptions {
  /** Default in Node: `FAL_KEY`, else `FAL_KEY_ID:FAL_KEY_SECRET` (not read when `proxyUrl` is set). */
  credentials?: Credentials;
  /** `Key` for fal (default), `Bearer` for gateways. */
  authScheme?: "Key" | "Bearer";
  /** The queue host. Default `https://queue.fal.run`. */
  baseUrl?: string;
  /**
   * The synchronous host used by `run`. Default `https://fal.run`, but only while `baseUrl` is fal's own:
   * with a custom `baseUrl` and no `syncBaseUrl`, `run()` refuses rather than send the gateway's
   * credentials to fal.
   */
  syncBaseUrl?: string;
  /**
   * fal's storage host, for `storage.upload` and the automatic upload of large binary images. Default
   * `https://rest.fal.ai` when the queue host is fal's; with a custom `baseUrl` there is none unless given
   * (a gateway's token must not reach fal's REST host): large images then travel inline as data URIs.
   */
  storageBaseUrl?: string;
  /**
   * Binary `image_url` / `image_urls[i]` larger than this many bytes are uploaded to storage and sent as
   * the short URL; smaller ones travel inline as data URIs. Default 1 MiB; `false` never uploads.
   */
  uploadThreshold?: number | false;
  /** Send every call to this proxy with the real URL in `x-fal-target-url` (fal's proxy protocol). */
  proxyUrl?: string;
  fetch?: typeof fetch;
  retry?: Partial<RetryOptions> | false;
  /** Limit for one HTTP call in ms (a status stream: until its headers arrive). Off by default. */
  timeout?: number;
  /**
   * The largest JSON answer read, in bytes (default 64 MiB: four PNGs as `sync_mode` data URIs fit with
   * room to spare). A larger answer is a `KontextApiError`, and reading stops there.
   */
  maxResponseBytes?: number;
  /** Sent with every call. */
  headers?: Record<string, string>;
  /** Check inputs before any network call. Default true; or your own validator. */
  validate?: boolean | InputValidator;
  /** Allow a raw key in a browser page, where anyone can read it. */
  dangerouslyAllowBrowser?: boolean;
}

/** fal's platform options that apply to queue and sync calls alike (fal docs: common-parameters). */
export interface PlatformOptions {
  /** Server-side start timeout in seconds (`x-fal-request-timeout`); must be more than 1. */
  startTimeout?: number;
  /** Routing hint for fal's runners (`x-fal-runner-hint`). */
  hint?: string;
  /** `false`: fal stores neither the inputs nor the outputs of this request (`X-Fal-Store-IO: 0`). */
  storeIO?: boolean;
  /** How long fal keeps the files this request makes, and who may read them (`X-Fal-Object-Lifecycle-Preference`). */
  objectLifecycle?: ObjectLifecycle;
  headers?: Record<string, string>;
}

export interface SubmitOptions extends PlatformOptions {
  /** fal POSTs the outcome here (`?fal_webhook=`). */
  webhookUrl?: string;
  priority?: "normal" | "low";
  /** `true`: fal does not retry this job after a server error (`x-fal-no-retry: 1`). */
  noRetry?: boolean;
  /** fal refuses the submit with a 429 when the app's queue is already this long (`fal_max_queue_length`). */
  maxQueueLength?: number;
  signal?: AbortSignal;
}

/** The queued job. The URLs are the ones this client will use: fal's when on the configured host, else built. */
export interface SubmitResult {
  requestId: string;
  status: "IN_QUEUE";
  queuePosition: number;
  statusUrl: string;
  responseUrl: string;
  cancelUrl: string;
  body: SubmitResponse;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface StatusOptions extends RequestOptions {
  /** Ask for the job's log lines (`logs=1`). */
  logs?: boolean;
}

/** How a job's statuses are followed. */
export interface FollowOptions {
  /** `stream` (default) reads the SSE status stream and falls back to polling if it breaks. */
  mode?: "stream" | "poll";
  /** A fixed poll interval in ms instead of the adaptive one. */
  pollInterval?: number;
  /** Ask for the job's log lines (`logs=1`). */
  logs?: boolean;
}

/** Options of `job.statuses()`: the job's own follow options, overridden per call. */
export interface StatusesOptions extends FollowOptions {
  signal?: AbortSignal;
}

/**
 * Options of `client.start()`: the submit's options, and how `result()` follows the job when nothing
 * else does. `signal` aborts the submit and every wait of this job (not the job itself: `cancel()` does).
 */
export interface StartOptions extends SubmitOptions, FollowOptions {
  /**
   * Whole-job limit in ms, from now: the job is then cancelled on the server (best effort) and its
   * `statuses()` and `result()` reject with a KontextTimeoutError carrying the request id.
   */
  timeout?: number;
}

/** Options of `client.job()`, which resumes a job by id. */
export interface JobOptions extends FollowOptions {
  /** Aborts every wait of this job handle. */
  signal?: AbortSignal;
  /** Whole-job limit in ms, from now, as for `client.start()`. */
  timeout?: number;
}

export interface SubscribeOptions extends StartOptions {
  /** Called with the request id as soon as the job is queued, before any waiting: persist it to resume. */
  onEnqueue?: (requestId: string) => void;
  onQueueUpdate?: (status: QueueStatus) => void;
}

export interface RunOptions extends RequestOptions, PlatformOptions {
  /** Whole-call limit in ms; rejects with KontextTimeoutError. */
  timeout?: number;
}

/**
 * One queued job, followed through one handle: from `client.start()` (which submits) or `client.job()`
 * (which resumes by id). Nothing runs until asked, except the submit; and nothing is polled after an
 * error: a 404, 401/403 or any other final answer ends `statuses()` and `result()` with a typed error.
 */
export interface KontextJob<E extends EndpointId = EndpointId> {
  readonly endpoint: E;
  /** Resolves when the submit answers (already resolved for `client.job`); rejects when the submit fails. */
  readonly requestId: Promise<string>;
  /**
   * The job's statuses: the status stream, reopened when silent, falling back to adaptive polling when it
   * breaks; ends after `COMPLETED`, or throws a typed error.
   */
  statuses(options?: StatusesOptions): AsyncIterable<QueueStatus>;
  /** Waits for completion, then fetches the result once (later calls get the same answer). */
  result(options?: RequestOptions): Promise<KontextResult<E>>;
  /**
   * Cancels the job on the server, as soon as its id is known when called before the submit answered.
   * `result()` then rejects with `KontextCancelledError`.
   */
  cancel(): Promise<void>;
  /** Resolves once the job is settled, whichever way: completed, failed, cancelled, or never submitted. Never rejects. */
  readonly done: Promise<void>;
}

export interface KontextClient {
  submit<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: SubmitOptions): Promise<SubmitResult>;
  status(endpoint: EndpointId, requestId: string, options?: StatusOptions): Promise<QueueStatus>;
  streamStatus(endpoint: EndpointId, requestId: string, options?: StatusOptions): AsyncIterable<QueueStatus>;
  result<E extends EndpointId>(endpoint: E, requestId: string, options?: RequestOptions): Promise<KontextResult<E>>;
  cancel(endpoint: EndpointId, requestId: string, options?: RequestOptions): Promise<CancelResponse>;
  /** Submits at once and returns the job's handle synchronously. */
  start<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: StartOptions): KontextJob<E>;
  /** A handle on a job submitted earlier (by this process or another); never submits. */
  job<E extends EndpointId>(endpoint: E, requestId: string, options?: JobOptions): KontextJob<E>;
  subscribe<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: SubscribeOptions): Promise<KontextResult<E>>;
  run<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: RunOptions): Promise<KontextResult<E>>;
  /** fal's storage: `upload` a file and get the short URL a job can take as `image_url`. */
  storage: KontextStorage;
}

/** The client from `createKontextClientLite`: the same methods (it only differs in its default validation). */
export type KontextLiteClient = KontextClient;

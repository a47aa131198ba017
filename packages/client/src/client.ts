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
import { validateInput } from "@kontext-sdk/schema";
import createClient, { type Client } from "openapi-fetch";
import { type Credentials, isBrowser } from "./credentials.js";
import { KontextApiError, KontextError, KontextTimeoutError, KontextValidationError } from "./errors.js";
import { createTransport, type Send } from "./http.js";
import { prepareInput, type WithBinaryImages } from "./inputs.js";
import { type RetryOptions, sleep } from "./retry.js";
import { linkedSignal } from "./signals.js";
import { IDLE, readStatusStream } from "./stream.js";
import { joinUrl, pickUrl, requestPath } from "./urls.js";

/** What an endpoint accepts: its schema input, with binary images allowed in `image_url` / `image_urls`. */
export type KontextInput<E extends EndpointId> = WithBinaryImages<InputOf<E>>;

/** A finished job: the endpoint's output and the request id (from `x-fal-request-id` for sync runs). */
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
  /** The synchronous host used by `run`. Default `https://fal.run`. */
  syncBaseUrl?: string;
  /** Send every call to this proxy with the real URL in `x-fal-target-url` (fal's proxy protocol). */
  proxyUrl?: string;
  fetch?: typeof fetch;
  retry?: Partial<RetryOptions> | false;
  /** Limit for one HTTP call in ms (a status stream: until its headers arrive). Off by default. */
  timeout?: number;
  /** Sent with every call. */
  headers?: Record<string, string>;
  /** Check inputs before any network call. Default true; or your own validator. */
  validate?: boolean | InputValidator;
  /** Allow a raw key in a browser page, where anyone can read it. */
  dangerouslyAllowBrowser?: boolean;
}

export interface SubmitOptions {
  /** fal POSTs the outcome here (`?fal_webhook=`). */
  webhookUrl?: string;
  priority?: "normal" | "low";
  /** Server-side start timeout in seconds (`x-fal-request-timeout`); must be more than 1. */
  startTimeout?: number;
  /** Routing hint for fal's runners (`x-fal-runner-hint`). */
  hint?: string;
  headers?: Record<string, string>;
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

export interface SubscribeOptions extends SubmitOptions {
  /** `stream` (default) reads the SSE status stream and falls back to polling if it breaks. */
  mode?: "stream" | "poll";
  /** Called with the request id as soon as the job is queued, before any waiting: persist it to resume. */
  onEnqueue?: (requestId: string) => void;
  onQueueUpdate?: (status: QueueStatus) => void;
  logs?: boolean;
  /** Whole-job limit in ms: rejects with KontextTimeoutError and cancels the remote job (best effort). */
  timeout?: number;
  /** A fixed poll interval in ms instead of the adaptive one. */
  pollInterval?: number;
}

export interface RunOptions extends RequestOptions {
  /** Whole-call limit in ms; rejects with KontextTimeoutError. */
  timeout?: number;
  headers?: Record<string, string>;
}

export interface KontextClient {
  raw: KontextRawClient;
  submit<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: SubmitOptions): Promise<SubmitResult>;
  status(endpoint: EndpointId, requestId: string, options?: StatusOptions): Promise<QueueStatus>;
  streamStatus(endpoint: EndpointId, requestId: string, options?: StatusOptions): AsyncIterable<QueueStatus>;
  result<E extends EndpointId>(endpoint: E, requestId: string, options?: RequestOptions): Promise<KontextResult<E>>;
  cancel(endpoint: EndpointId, requestId: string, options?: RequestOptions): Promise<CancelResponse>;
  subscribe<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: SubscribeOptions): Promise<KontextResult<E>>;
  run<E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: RunOptions): Promise<KontextResult<E>>;
}

/** The client without `raw`, from `createKontextClientLite`. */
export type KontextLiteClient = Omit<KontextClient, "raw">;

/**
 * Adaptive polling, used when `mode: "poll"` is asked for or the status stream breaks. The first check
 * comes 250 ms after submit, each quiet wait is 1.5× the last, capped at 2.5 s; when the job starts
 * running the wait drops back to 250 ms, because queue time says nothing about run time. Short jobs are
 * seen finishing quickly; long ones cost a request every 2.5 s instead of every 0.5 s (fal-js's fixed rate).
 */
export const POLL_BACKOFF = { initial: 250, factor: 1.5, max: 2500 } as const;

/**
 * How long `subscribe` lets a status stream stay silent before reopening it. fal sends an event per change,
 * so a long queue or a long run can be quiet, while a half-open connection would hang the job for good.
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

/**
 * The client, validating inputs with the schema's compiled validators unless `validate: false`.
 */
export function createKontextClient(options: KontextClientOptions = {}): KontextClient {
  const v = options.validate;
  const [lite, send] = build({ ...options, validate: v === false ? false : typeof v === "function" ? v : validateInput });
  const raw = createClient<paths>({
    baseUrl: options.baseUrl ?? QUEUE_HOST,
    // openapi-fetch's Request goes through the same transport (auth, proxy, retries); every final answer,
    // error or not, is handed back for openapi-fetch to read.
    fetch: async (req) => {
      const body = /^(GET|HEAD)$/.test(req.method) ? undefined : await req.text();
      const call = {
        method: req.method,
        url: req.url,
        body,
        headers: req.headers,
        signal: req.signal,
        once: req.method === "POST",
      };
      return (await send(call, "raw"))[1];
    },
  });
  return { ...lite, raw };
}

/**
 * The lifecycle alone, for bundles that count bytes: no compiled validators (about 6 kB gzip) and no
 * `raw` openapi-fetch client (about 2.6 kB). Inputs are checked only when `validate` is a function
 * (e.g. `validateInput` from `@kontext-sdk/schema`).
 */
export function createKontextClientLite(options: KontextClientOptions = {}): KontextLiteClient {
  return build(options)[0];
}

const QUEUE_HOST = "https://queue.fal.run";

// The lifecycle and the transport it runs on (shared with the raw client, not public).
function build(options: KontextClientOptions): [KontextLiteClient, Send] {
  const base = options.baseUrl ?? QUEUE_HOST;
  const syncBase = options.syncBaseUrl ?? "https://fal.run";
  const { validate } = options;
  if (isBrowser() && typeof options.credentials === "string" && !options.proxyUrl && !options.dangerouslyAllowBrowser) {
    throw new KontextError("A raw key in a browser is public: use proxyUrl, a credentials function, or dangerouslyAllowBrowser");
  }
  const send = createTransport(options, [base, syncBase]);
  const withLogs = (url: string, o?: StatusOptions) => (o?.logs ? `${url}${url.includes("?") ? "&" : "?"}logs=1` : url);
  // Built from our own base: `/{owner}/{app}/requests/{id}` plus `/status`, `/status/stream`, `/cancel`.
  const at = (endpoint: string, requestId: string, suffix = "") => joinUrl(base, requestPath(endpoint, requestId)) + suffix;

  async function prepare(endpoint: string, input: unknown): Promise<string> {
    const value = await prepareInput(input);
    const checked = typeof validate === "function" && validate(endpoint, value);
    if (checked && !checked.ok) throw new KontextValidationError(checked.issues, { prefix: `Invalid input for ${endpoint}` });
    return JSON.stringify(value);
  }

  async function getStatus(url: string, o?: StatusOptions): Promise<QueueStatus> {
    const [s] = await send({ method: "GET", url: withLogs(url, o), signal: o?.signal });
    if (typeof (s as QueueStatus | undefined)?.status !== "string") {
      throw new KontextApiError("GET status: the answer is not a queue status", { status: 200, body: s, retryable: true });
    }
    return s as QueueStatus;
  }

  async function* streamFrom(url: string, o: StatusOptions = {}, idleMs?: number) {
    const [, response] = await send({ method: "GET", url: withLogs(url, o), signal: o.signal }, "stream");
    return yield* readStatusStream(response, o.signal, idleMs);
  }

  async function getResult<E extends EndpointId>(
    url: string,
    requestId: string,
    signal?: AbortSignal,
  ): Promise<KontextResult<E>> {
    const [data, response] = await send({ method: "GET", url, signal });
    return { data: data as OutputOf<E>, requestId: response.headers.get("x-fal-request-id") ?? requestId };
  }

  async function cancelAt(url: string, signal?: AbortSignal): Promise<CancelResponse> {
    try {
      const [data] = await send({ method: "PUT", url, signal });
      return (data as CancelResponse | undefined) ?? { status: "CANCELLATION_REQUESTED" };
    } catch (error) {
      // fal documents ALREADY_COMPLETED and NOT_FOUND as cancel outcomes; some hosts send them with a 4xx.
      const s = (error as KontextApiError).body as CancelResponse | undefined;
      if (s?.status === "ALREADY_COMPLETED" || s?.status === "NOT_FOUND") return { status: s.status };
      throw error;
    }
  }

  async function submit<E extends EndpointId>(endpoint: E, input: KontextInput<E>, o: SubmitOptions = {}): Promise<SubmitResult> {
    const { startTimeout: t } = o;
    if (t !== undefined && !(t > 1)) {
      const message = `startTimeout must be more than 1 second (got ${t})`;
      throw new KontextValidationError([{ path: "", field: "startTimeout", value: t, rule: "exclusiveMinimum", message }]);
    }
    const headers: Record<string, string> = { ...o.headers };
    if (t) headers["x-fal-request-timeout"] = String(t);
    if (o.priority) headers["x-fal-queue-priority"] = o.priority;
    if (o.hint) headers["x-fal-runner-hint"] = o.hint;
    const url = joinUrl(base, `/${endpoint}`) + (o.webhookUrl ? `?fal_webhook=${encodeURIComponent(o.webhookUrl)}` : "");
    let s: SubmitResponse | undefined;
    let headerId: string | null | undefined;
    try {
      const [data, response] = await send({
        method: "POST",
        url,
        body: await prepare(endpoint, input),
        headers,
        signal: o.signal,
        once: true,
      });
      s = data as SubmitResponse | undefined;
      headerId = response.headers.get("x-fal-request-id");
    } catch (error) {
      // A 2xx with a garbled body still queued a job: when its id came in a header, keep it rather than lose it.
      if (!(error instanceof KontextApiError && error.status >= 200 && error.status < 300 && error.requestId)) throw error;
      headerId = error.requestId;
    }
    const requestId = typeof s?.request_id === "string" ? s.request_id : headerId;
    if (!requestId) throw new KontextApiError("POST submit: the answer has no request_id", { status: 200, body: s });
    const r = at(endpoint, requestId);
    const statusUrl = pickUrl(s?.status_url, base, `${r}/status`);
    const responseUrl = pickUrl(s?.response_url, base, r);
    const cancelUrl = pickUrl(s?.cancel_url, base, `${r}/cancel`);
    return {
      requestId,
      status: "IN_QUEUE",
      queuePosition: s?.queue_position ?? 0,
      statusUrl,
      responseUrl,
      cancelUrl,
      body: s ?? {
        status: "IN_QUEUE",
        request_id: requestId,
        queue_position: 0,
        status_url: statusUrl,
        response_url: responseUrl,
        cancel_url: cancelUrl,
      },
    };
  }

  async function waitUntilDone(job: SubmitResult, o: SubscribeOptions, signal: AbortSignal): Promise<void> {
    const done = (s: QueueStatus) => {
      o.onQueueUpdate?.(s);
      last = s.status;
      return last !== "IN_QUEUE" && last !== "IN_PROGRESS";
    };
    let last: string = job.status;
    let silences = 0;
    if (o.mode !== "poll") {
      stream: for (;;) {
        const events = streamFrom(`${job.statusUrl.replace(/\?.*$/, "")}/stream`, { logs: o.logs, signal }, STREAM_IDLE_MS);
        try {
          for (;;) {
            let next: IteratorResult<QueueStatus, string | undefined>;
            try {
              next = await events.next();
            } catch (error) {
              if (signal.aborted) throw signal.reason;
              if ((error as KontextApiError).status === 401 || (error as KontextApiError).status === 403) throw error;
              // Anything else (a dropped connection, a garbled event, no stream route): poll the same job instead.
              break stream;
            }
            // Outside the catch: an error thrown by onQueueUpdate is the caller's, not a broken stream.
            if (!next.done) {
              if (done(next.value)) return;
            } else if (next.value !== IDLE) return;
            else if (++silences > STREAM_REOPENS) break stream;
            else continue stream;
          }
        } finally {
          await events.return(undefined);
        }
      }
    }
    let wait = o.pollInterval ?? POLL_BACKOFF.initial;
    for (;;) {
      await sleep(wait, signal);
      const previous = last;
      if (done(await getStatus(job.statusUrl, { logs: o.logs, signal }))) return;
      if (o.pollInterval === undefined) wait = nextPollWait(wait, previous, last);
    }
  }

  /**
   * Runs `work` under one signal that both the caller's signal and an optional deadline abort. On the
   * deadline the work rejects with a KontextTimeoutError carrying whatever request id `onTimeout` knows.
   */
  async function bounded<T>(
    outer: AbortSignal | undefined,
    timeout: number | undefined,
    work: (signal: AbortSignal) => Promise<T>,
    onTimeout: () => string | undefined = () => undefined,
  ): Promise<T> {
    if (outer?.aborted) throw outer.reason;
    const { signal, release } = linkedSignal(
      outer,
      timeout,
      () => new KontextTimeoutError(`timed out after ${timeout} ms`, onTimeout()),
    );
    try {
      return await work(signal);
    } catch (error) {
      throw signal.aborted ? signal.reason : error;
    } finally {
      release();
    }
  }

  const client: KontextLiteClient = {
    submit,
    status: (endpoint, requestId, o) => getStatus(at(endpoint, requestId, "/status"), o),
    streamStatus: (endpoint, requestId, o) => streamFrom(at(endpoint, requestId, "/status/stream"), o),
    result: (endpoint, requestId, o) => getResult(at(endpoint, requestId), requestId, o?.signal),
    cancel: (endpoint, requestId, o) => cancelAt(at(endpoint, requestId, "/cancel"), o?.signal),

    subscribe(endpoint, input, o = {}) {
      let job: SubmitResult | undefined;
      return bounded(
        o.signal,
        o.timeout,
        async (signal) => {
          job = await submit(endpoint, input, { ...o, signal });
          o.onEnqueue?.(job.requestId);
          await waitUntilDone(job, o, signal);
          return getResult(job.responseUrl, job.requestId, signal);
        },
        () => {
          // Best effort: the caller is told about the timeout either way, so a failed cancel is dropped.
          if (job) cancelAt(job.cancelUrl).catch(() => {});
          return job?.requestId;
        },
      );
    },

    run(endpoint, input, o = {}) {
      return bounded(o.signal, o.timeout, async (signal) => {
        const body = await prepare(endpoint, input);
        // fal never retries sync runs (a lost answer is still billed), so neither do we, except when the
        // connection was refused and nothing can have run.
        const call = { method: "POST", url: joinUrl(syncBase, `/${endpoint}`), body, headers: o.headers, signal, once: true };
        const [data, response] = await send(call);
        return { data: data as OutputOf<typeof endpoint>, requestId: response.headers.get("x-fal-request-id") ?? "" };
      });
    },
  };
  return [client, send];
}

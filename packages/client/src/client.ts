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
import { type Credentials, envCredentials, isBrowser } from "./credentials.js";
import { KontextApiError, KontextError, KontextTimeoutError, KontextValidationError } from "./errors.js";
import { createTransport, type Send } from "./http.js";
import { prepareInput, type WithBinaryImages } from "./inputs.js";
import { DEFAULT_RETRY, type RetryOptions, sleep } from "./retry.js";
import { readStatusStream } from "./stream.js";
import { joinUrl, pickUrl, queueUrls } from "./urls.js";

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
    baseUrl: options.baseUrl ?? "https://queue.fal.run",
    fetch: async (req) => {
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.text();
      const call = {
        method: req.method,
        url: req.url,
        body,
        headers: req.headers,
        signal: req.signal,
        once: req.method === "POST",
      };
      return (await send({ ...call, what: `${req.method} ${req.url}` }, "raw")).response;
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

// The lifecycle and the transport it runs on (shared with the raw client, not public).
function build(options: KontextClientOptions): [KontextLiteClient, Send] {
  const base = options.baseUrl ?? "https://queue.fal.run";
  const syncBase = options.syncBaseUrl ?? "https://fal.run";
  const { proxyUrl } = options;
  // Behind a proxy the key lives on the server: nothing is attached unless given explicitly.
  const credentials = options.credentials ?? (proxyUrl || isBrowser() ? undefined : envCredentials());
  if (isBrowser() && typeof options.credentials === "string" && !proxyUrl && !options.dangerouslyAllowBrowser) {
    throw new KontextError(
      "A raw key in a browser can be read by anyone who opens the page. Route calls through a server (`proxyUrl`), " +
        "pass a `credentials` function that fetches a short-lived token, or set `dangerouslyAllowBrowser: true`.",
    );
  }
  const validator = typeof options.validate === "function" ? options.validate : undefined;
  const send: Send = createTransport({
    credentials,
    authScheme: options.authScheme ?? "Key",
    proxyUrl,
    fetch: options.fetch ?? ((...args) => globalThis.fetch(...args)),
    retry: options.retry === false ? false : { ...DEFAULT_RETRY, ...options.retry },
    timeout: options.timeout,
    headers: options.headers,
    trusted: [base, syncBase],
  });

  async function prepare(endpoint: string, input: unknown): Promise<string> {
    const value = await prepareInput(input);
    if (validator) {
      const checked = validator(endpoint, value);
      if (!checked.ok) throw new KontextValidationError(checked.issues, { prefix: `Invalid input for ${endpoint}` });
    }
    return JSON.stringify(value);
  }

  const urls = (endpoint: string, requestId: string) => {
    const u = queueUrls(endpoint, requestId);
    return {
      status: joinUrl(base, u.status),
      stream: joinUrl(base, u.stream),
      result: joinUrl(base, u.result),
      cancel: joinUrl(base, u.cancel),
    };
  };

  async function getStatus(url: string, what: string, o: StatusOptions = {}): Promise<QueueStatus> {
    const { data } = await send({
      method: "GET",
      url: o.logs ? `${url}${url.includes("?") ? "&" : "?"}logs=1` : url,
      signal: o.signal,
      what,
    });
    const s = data as QueueStatus | undefined;
    if (!s || typeof s.status !== "string") {
      throw new KontextApiError(`${what}: the answer is not a queue status`, { status: 200, body: data, retryable: true });
    }
    return s;
  }

  async function* streamFrom(url: string, what: string, o: StatusOptions = {}): AsyncGenerator<QueueStatus> {
    const target = o.logs ? `${url}${url.includes("?") ? "&" : "?"}logs=1` : url;
    const { response } = await send({ method: "GET", url: target, signal: o.signal, what }, "stream");
    yield* readStatusStream(response, what, o.signal);
  }

  async function getResult<E extends EndpointId>(url: string, requestId: string, what: string, signal?: AbortSignal) {
    const { response, data } = await send({ method: "GET", url, signal, what });
    return { data: data as OutputOf<E>, requestId: response.headers.get("x-fal-request-id") ?? requestId };
  }

  async function doCancel(url: string, what: string, signal?: AbortSignal): Promise<CancelResponse> {
    try {
      const { data } = await send({ method: "PUT", url, signal, what });
      return (data as CancelResponse | undefined) ?? { status: "CANCELLATION_REQUESTED" };
    } catch (error) {
      // fal documents ALREADY_COMPLETED and NOT_FOUND as cancel outcomes; some hosts send them with a 4xx.
      const s = error instanceof KontextApiError && (error.body as { status?: unknown } | null)?.status;
      if (s === "ALREADY_COMPLETED" || s === "NOT_FOUND") return { status: s };
      throw error;
    }
  }

  async function submit<E extends EndpointId>(endpoint: E, input: KontextInput<E>, o: SubmitOptions = {}): Promise<SubmitResult> {
    if (o.startTimeout !== undefined && !(o.startTimeout > 1)) {
      const message = `startTimeout must be more than 1 second (got ${o.startTimeout})`;
      throw new KontextValidationError([
        { path: "", field: "startTimeout", value: o.startTimeout, rule: "exclusiveMinimum", message },
      ]);
    }
    const body = await prepare(endpoint, input);
    const headers: Record<string, string> = { ...o.headers };
    if (o.startTimeout !== undefined) headers["x-fal-request-timeout"] = String(o.startTimeout);
    if (o.priority) headers["x-fal-queue-priority"] = o.priority;
    if (o.hint) headers["x-fal-runner-hint"] = o.hint;
    const url = joinUrl(base, `/${endpoint}`) + (o.webhookUrl ? `?fal_webhook=${encodeURIComponent(o.webhookUrl)}` : "");
    const what = `submit to ${endpoint}`;
    let s: SubmitResponse | undefined;
    let headerId: string | undefined;
    try {
      const { response, data } = await send({ method: "POST", url, body, headers, signal: o.signal, once: true, what });
      s = data as SubmitResponse | undefined;
      headerId = response.headers.get("x-fal-request-id") ?? undefined;
    } catch (error) {
      // A 2xx with a garbled body still queued a job; when its id came in a header, keep the job rather than lose it.
      if (!(error instanceof KontextApiError && error.status < 300 && error.requestId)) throw error;
      headerId = error.requestId;
    }
    const requestId = typeof s?.request_id === "string" ? s.request_id : headerId;
    if (!requestId) throw new KontextApiError(`${what}: the answer has no request_id`, { status: 200, body: s });
    const built = urls(endpoint, requestId);
    return {
      requestId,
      status: "IN_QUEUE",
      queuePosition: typeof s?.queue_position === "number" ? s.queue_position : 0,
      statusUrl: pickUrl(s?.status_url, base, built.status),
      responseUrl: pickUrl(s?.response_url, base, built.result),
      cancelUrl: pickUrl(s?.cancel_url, base, built.cancel),
      body: s ?? {
        status: "IN_QUEUE",
        request_id: requestId,
        queue_position: 0,
        status_url: built.status,
        response_url: built.result,
        cancel_url: built.cancel,
      },
    };
  }

  async function waitUntilDone(job: SubmitResult, o: SubscribeOptions, signal: AbortSignal): Promise<void> {
    const what = `status of ${job.requestId}`;
    const done = (s: QueueStatus) => {
      o.onQueueUpdate?.(s);
      return s.status !== "IN_QUEUE" && s.status !== "IN_PROGRESS";
    };
    let last: string = job.status;
    if (o.mode !== "poll") {
      try {
        for await (const s of streamFrom(`${job.statusUrl.replace(/\?.*$/, "")}/stream`, what, { logs: o.logs, signal })) {
          last = s.status;
          if (done(s)) return;
        }
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (error instanceof KontextApiError && (error.status === 401 || error.status === 403)) throw error;
        // Anything else (a dropped connection, a proxy that buffers SSE, a 404 for the stream path): poll instead.
      }
    }
    let wait = o.pollInterval ?? POLL_BACKOFF.initial;
    for (;;) {
      await sleep(wait, signal);
      const s = await getStatus(job.statusUrl, what, { logs: o.logs, signal });
      if (done(s)) return;
      if (o.pollInterval === undefined) wait = nextPollWait(wait, last, s.status);
      last = s.status;
    }
  }

  /** Runs `work` under a signal that the caller's signal and an optional deadline both abort. */
  async function bounded<T>(
    outer: AbortSignal | undefined,
    timeout: number | undefined,
    label: () => [string, string | undefined],
    work: (signal: AbortSignal) => Promise<T>,
    onTimeout?: () => void,
  ): Promise<T> {
    const ctl = new AbortController();
    const forward = () => ctl.abort(outer!.reason);
    if (outer?.aborted) throw outer.reason;
    outer?.addEventListener("abort", forward, { once: true });
    const timer =
      timeout && timeout > 0
        ? setTimeout(() => {
            const [message, requestId] = label();
            ctl.abort(new KontextTimeoutError(message, requestId));
            onTimeout?.();
          }, timeout)
        : undefined;
    try {
      return await work(ctl.signal);
    } catch (error) {
      throw ctl.signal.aborted ? ctl.signal.reason : error;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forward);
    }
  }

  const client: KontextLiteClient = {
    submit,
    status: (endpoint, requestId, o) => getStatus(urls(endpoint, requestId).status, `status of ${requestId}`, o),
    streamStatus: (endpoint, requestId, o) => streamFrom(urls(endpoint, requestId).stream, `status stream of ${requestId}`, o),
    result: (endpoint, requestId, o = {}) =>
      getResult(urls(endpoint, requestId).result, requestId, `result of ${requestId}`, o.signal),
    cancel: (endpoint, requestId, o = {}) => doCancel(urls(endpoint, requestId).cancel, `cancel of ${requestId}`, o.signal),

    subscribe(endpoint, input, o = {}) {
      let job: SubmitResult | undefined;
      return bounded(
        o.signal,
        o.timeout,
        () => [`${endpoint} did not finish within ${o.timeout} ms`, job?.requestId],
        async (signal) => {
          job = await submit(endpoint, input, { ...o, signal });
          o.onEnqueue?.(job.requestId);
          await waitUntilDone(job, o, signal);
          return getResult(job.responseUrl, job.requestId, `result of ${job.requestId}`, signal);
        },
        // Best effort: the caller has been told; a failed cancel must not become an unhandled rejection.
        () => job && doCancel(job.cancelUrl, `cancel of ${job.requestId}`).catch(() => {}),
      );
    },

    run(endpoint, input, o = {}) {
      return bounded(
        o.signal,
        o.timeout,
        () => [`${endpoint} did not answer within ${o.timeout} ms`, undefined],
        async (signal) => {
          const body = await prepare(endpoint, input);
          const url = joinUrl(syncBase, `/${endpoint}`);
          // fal never retries sync runs (a lost answer is still billed), so neither do we, except when the
          // connection was refused and nothing can have run.
          const { response, data } = await send({
            method: "POST",
            url,
            body,
            headers: o.headers,
            signal,
            once: true,
            what: `run ${endpoint}`,
          });
          return { data: data as OutputOf<typeof endpoint>, requestId: response.headers.get("x-fal-request-id") ?? "" };
        },
      );
    },
  };
  return [client, send];
}

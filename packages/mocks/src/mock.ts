/**
 * The simulator: one web-standard handler holding the jobs, the request log and the fault
 * rules. The MSW handlers, the node:http server and `mock.fetch` only adapt it.
 */
import type { EndpointId, HTTPValidationError, KontextOutput, QueueStatus, WebhookPayload } from "@kontext-sdk/schema";
import { endpoints, isEndpointId, validateInput } from "@kontext-sdk/schema";
import { type CancelTimer, type MockClock, realClock, sleepOn } from "./clock.js";
import { FAULT_HEADER, type Fault, type FaultRule, FaultSet, faultFromHeader, type MockOperation } from "./faults.js";
import { seededRandom } from "./images/picture.js";
import { type Generation, type GenerationInput, generate, outputFor } from "./outputs.js";
import {
  defaultErrorBody,
  flat,
  json,
  malformedJson,
  methodNotAllowed,
  notFound,
  requestNotFound,
  unauthorized,
} from "./responses.js";
import { completesAfter, logTime, nextEdge, phaseAt, type ResolvedTimeline, resolveTimeline, type Timeline } from "./timeline.js";
import { toHttpValidationError } from "./validation.js";
import { createWebhookSigner, type MockWebhookJwks, type WebhookSigningOptions } from "./webhook-signer.js";

export interface KontextMockOptions {
  /** How a job moves: IN_QUEUE steps, IN_PROGRESS steps, step length (defaults 2, 3, 200 ms). */
  timeline?: Timeline;
  /** Time source; default real time. Use `createManualClock()` in tests. */
  clock?: MockClock;
  /** "required" (default): `Authorization: Key <x>` or `Bearer <x>`, else 401. "any": accept anything. */
  auth?: "required" | "any";
  /** Fault rules applied from the start; more with `mock.addFault`. */
  faults?: FaultRule[];
  /** Completed jobs (and their files) are forgotten this long after completion (default 10 minutes). */
  completedTtlMs?: number;
  /**
   * A status stream that has sent nothing for this long gets an SSE comment (`: keep-alive`), so
   * clients and proxies can tell a quiet job from a dead connection (default 10 s).
   */
  streamKeepAliveMs?: number;
  /** How many requests `mock.requests` keeps, newest last (default 10,000). */
  maxRecordedRequests?: number;
  /** Used to POST `fal_webhook` deliveries (default: the global fetch). */
  webhookFetch?: typeof fetch;
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
}

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names; the Authorization value is redacted. */
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, the raw text otherwise, undefined without a body. */
  body: unknown;
  /** The operation the router matched, if any. */
  operation?: MockOperation;
  /** Clock time of arrival. */
  time: number;
}

export type JobState = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

/** What went wrong with a job, served by its result. */
export interface JobFailure {
  status: number;
  body: unknown;
  errorType?: string;
  /** A short description for the COMPLETED status and the webhook. */
  error: string;
  /** Extra headers on the result's answer. */
  headers?: Record<string, string>;
}

export interface MockJob {
  readonly requestId: string;
  readonly endpoint: EndpointId;
  readonly input: Record<string, unknown>;
  /** Clock time of submit. */
  readonly submittedAt: number;
  /** Clock time at which the job is (or will be) COMPLETED. */
  readonly completedAt: number;
  /** The state now, derived from the clock. */
  readonly state: JobState;
  /** True for jobs created by a sync run. */
  readonly sync: boolean;
  /** True when a running job was cancelled. */
  readonly cancelled: boolean;
  /** Set when the job fails (fault or cancellation); its result serves this error. */
  readonly failure: JobFailure | undefined;
  /** The `fal_webhook` URL given at submit. */
  readonly webhookUrl: string | undefined;
}

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

/** Where the queue lives for this request: `base` is the URL prefix operations hang off. */
export interface RouteContext {
  /** Absolute URL prefix, e.g. `https://queue.fal.run` or `http://127.0.0.1:4010`. */
  base: string;
  /** True when the request is a sync run host (fal.run-style). */
  sync?: boolean;
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
  /** Forgets jobs, requests, webhooks and added faults (the option's faults are re-armed); cancels timers. */
  reset(): void;
  /** The options' clock. */
  readonly clock: MockClock;
}

/** Marks a response as "drop the connection"; adapters turn it into their own kind of reset. */
export const isConnectionReset = (r: Response) => r.type === "error";

const REQUEST_PATH = /^\/([^/]+\/[^/]+)\/requests\/([^/]+)(\/status(\/stream)?|\/cancel)?\/?$/;
const FILE_PATH = /^\/files\/([^/]+)\/(\d+)\.(png|jpe?g)$/;
const APP_PATHS = new Set<string>(Object.values(endpoints).map((e) => e.appPath));
const SYNC_HOST = /^(.+\.)?fal\.run$/;
const QUEUE_HOST = /^queue\.fal\.run$/;
const encoder = new TextEncoder();

class Job implements MockJob {
  endedAt: number | undefined;
  failure: JobFailure | undefined;
  cancelled = false;
  private rendered: Generation | undefined;
  listeners = new Set<() => void>();
  timers = new Set<CancelTimer>();
  constructor(
    readonly requestId: string,
    readonly endpoint: EndpointId,
    readonly input: Record<string, unknown>,
    readonly submittedAt: number,
    readonly timeline: ResolvedTimeline,
    readonly clock: MockClock,
    readonly base: string,
    readonly webhookUrl: string | undefined,
    readonly sync: boolean,
  ) {}
  /** Rendered on first use (result, files, webhook, final status): submit stays cheap under load. */
  get generation(): Generation {
    this.rendered ??= generate(this.endpoint, this.input as unknown as GenerationInput);
    return this.rendered;
  }
  get completedAt() {
    return this.endedAt ?? this.submittedAt + completesAfter(this.timeline);
  }
  get state(): JobState {
    return this.phase().state;
  }
  phase(now = this.clock.now()) {
    if (this.endedAt !== undefined && now >= this.endedAt) return { state: "COMPLETED" as const };
    return phaseAt(this.timeline, now - this.submittedAt);
  }
  notify() {
    for (const l of [...this.listeners]) l();
  }
  dispose() {
    for (const t of this.timers) t();
    this.timers.clear();
  }
}

export function createKontextMock(options: KontextMockOptions = {}): KontextMock {
  const clock = options.clock ?? realClock;
  const timeline = resolveTimeline(options.timeline);
  const ttl = options.completedTtlMs ?? 10 * 60_000;
  const keepAliveMs = options.streamKeepAliveMs ?? 10_000;
  const maxRecorded = options.maxRecordedRequests ?? 10_000;
  const webhookFetch = options.webhookFetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const signer = options.webhookSigning === false ? undefined : createWebhookSigner(options.webhookSigning);
  const webhookJwks = async (): Promise<MockWebhookJwks> => (signer ? signer.jwks() : { keys: [] });
  const idRandom = options.seed === undefined ? undefined : seededRandom(options.seed);
  const faults = new FaultSet(options.faults, options.seed);
  const jobs = new Map<string, Job>();
  const requests: RecordedRequest[] = [];
  const webhooks: WebhookDelivery[] = [];

  const setTimer = (fn: () => void, ms: number): CancelTimer => (clock.setTimer ?? realClock.setTimer!)(fn, ms);

  function newId(): string {
    if (!idRandom && typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const rand = idRandom ?? Math.random;
    const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
    hex[12] = "4";
    hex[16] = "89ab"[Math.floor(rand() * 4)]!;
    const h = hex.join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const expired = (job: Job, now: number) => now >= job.completedAt + ttl;

  /** Drops expired jobs from the front; jobs are in submit order, so this stops early. */
  function sweep() {
    const now = clock.now();
    for (const [id, job] of jobs) {
      if (!expired(job, now)) break;
      job.dispose();
      jobs.delete(id);
    }
  }

  function getJob(id: string): Job | undefined {
    const job = jobs.get(id);
    if (job && expired(job, clock.now())) {
      job.dispose();
      jobs.delete(id);
      return undefined;
    }
    return job;
  }

  const urls = (base: string, job: Job) => {
    const root = `${base}/${endpoints[job.endpoint].appPath}/requests/${job.requestId}`;
    return { response_url: root, status_url: `${root}/status`, cancel_url: `${root}/cancel` };
  };

  const fileUrl = (base: string, job: Job) => (_index: number, fileName: string) => `${base}/files/${job.requestId}/${fileName}`;

  function statusBody(job: Job, base: string, withLogs: boolean, now = clock.now()): QueueStatus {
    const phase = job.phase(now);
    const common = { request_id: job.requestId, ...urls(base, job) };
    const logs = () => {
      const count =
        phase.state === "IN_PROGRESS"
          ? phase.logCount
          : phase.state === "COMPLETED"
            ? Math.min(
                job.timeline.progressSteps,
                Math.max(
                  0,
                  Math.ceil((job.completedAt - job.submittedAt) / (job.timeline.stepMs || 1)) - job.timeline.queueSteps,
                ),
              )
            : 0;
      return Array.from({ length: count }, (_, i) => ({
        message: `Step ${i + 1} of ${job.timeline.progressSteps}: generating ${job.input.num_images ?? 1} image(s)`,
        level: "INFO",
        source: "user",
        timestamp: new Date(job.submittedAt + logTime(job.timeline, i)).toISOString(),
      }));
    };
    const withLogsField = withLogs ? { logs: logs() } : {};
    if (phase.state === "IN_QUEUE")
      return { status: "IN_QUEUE", ...common, queue_position: phase.queuePosition, ...withLogsField };
    if (phase.state === "IN_PROGRESS") return { status: "IN_PROGRESS", ...common, ...withLogsField };
    // Jobs that never ran to the end (cancelled, timed out before starting) report no inference time.
    const ranToEnd = !job.cancelled && job.failure?.errorType !== "request_timeout";
    const metrics = { inference_time: ranToEnd ? job.generation.inferenceTime : null };
    const error = job.failure ? { error: job.failure.error, error_type: job.failure.errorType ?? null } : {};
    return { status: "COMPLETED", ...common, ...withLogsField, metrics, ...error };
  }

  function resultOf(job: Job, base: string): { status: number; body: unknown; headers: Record<string, string> } {
    const headers: Record<string, string> = { "x-fal-request-id": job.requestId };
    if (job.failure) {
      if (job.failure.errorType && job.failure.status >= 500) headers["x-fal-error-type"] = job.failure.errorType;
      return { status: job.failure.status, body: job.failure.body, headers: { ...headers, ...job.failure.headers } };
    }
    return { status: 200, body: outputFor(job.generation, fileUrl(base, job)), headers };
  }

  async function deliverWebhook(job: Job, attempt: number) {
    const r = resultOf(job, job.base);
    const payload: WebhookPayload =
      r.status === 200
        ? { request_id: job.requestId, gateway_request_id: job.requestId, status: "OK", payload: r.body as KontextOutput }
        : {
            request_id: job.requestId,
            gateway_request_id: job.requestId,
            status: "ERROR",
            error: `Invalid status code: ${r.status}`,
            payload: r.body as WebhookPayload["payload"],
          };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { "content-type": "application/json", "x-fal-webhook-request-id": job.requestId };
    const delivery: WebhookDelivery = { url: job.webhookUrl!, attempt, payload, headers, signed: false };
    webhooks.push(delivery);
    if (webhooks.length > maxRecorded) webhooks.shift();
    try {
      if (signer) {
        // A runtime without Ed25519 in WebCrypto still gets the delivery, unsigned (`signed: false`).
        const signature = await signer.headers(job.requestId, body).catch(() => undefined);
        if (signature) Object.assign(headers, signature);
        delivery.signed = !!signature;
      }
      const res = await webhookFetch(job.webhookUrl!, { method: "POST", headers, body });
      // The answer's body is not needed; dropping it without waiting keeps "answered" and "retry scheduled"
      // in the same tick, so whoever sees the status also sees the next attempt's timer.
      res.body?.cancel().catch(() => {});
      delivery.status = res.status;
    } catch (e) {
      delivery.error = e instanceof Error ? e.message : String(e);
    }
    const delivered = delivery.status !== undefined && delivery.status >= 200 && delivery.status < 300;
    if (!delivered && attempt <= (options.webhookRetry?.retries ?? 0)) {
      schedule(job, options.webhookRetry?.delayMs ?? 1_000, () => deliverWebhook(job, attempt + 1));
    }
  }

  /** Runs `fn` after `ms` on the mock's clock, as one of the job's timers (so expiry and reset cancel it). */
  function schedule(job: Job, ms: number, fn: () => unknown) {
    const cancel = setTimer(() => {
      job.timers.delete(cancel);
      void fn();
    }, ms);
    job.timers.add(cancel);
  }

  /** (Re)schedules the webhook for when the job completes. */
  function scheduleCompletion(job: Job) {
    job.dispose();
    if (!job.webhookUrl) return;
    schedule(job, Math.max(0, job.completedAt - clock.now()), () => deliverWebhook(job, 1));
  }

  function record(request: Request, url: URL, body: unknown): RecordedRequest {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = name === "authorization" || name === "x-fal-key" ? redact(value) : value;
    });
    const entry: RecordedRequest = {
      method: request.method,
      url: url.href,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      time: clock.now(),
    };
    requests.push(entry);
    while (requests.length > maxRecorded) requests.shift();
    return entry;
  }

  function authorized(request: Request): boolean {
    if (options.auth === "any") return true;
    return /^(Key|Bearer) \S+/.test(request.headers.get("authorization") ?? "");
  }

  type Parsed = { ok: true; value: unknown } | { ok: false; response: Response };
  function parseBody(text: string): Parsed {
    if (text.trim() === "") {
      const body: HTTPValidationError = { detail: [{ loc: ["body"], msg: "Field required", type: "missing" }] };
      return { ok: false, response: json(body, 422) };
    }
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false, response: malformedJson() };
    }
  }

  function createJob(
    endpoint: EndpointId,
    input: Record<string, unknown>,
    base: string,
    webhookUrl: string | undefined,
    sync: boolean,
    failAt: Fault | undefined,
  ) {
    const job = new Job(newId(), endpoint, input, clock.now(), timeline, clock, base, webhookUrl, sync);
    if (sync) job.endedAt = job.submittedAt;
    if (failAt?.kind === "fail-at-result") {
      const status = failAt.status ?? 422;
      const body =
        failAt.body ??
        (status === 422
          ? {
              detail: [
                {
                  loc: [
                    "body",
                    endpoints[endpoint].kind === "text-to-image"
                      ? "prompt"
                      : endpoints[endpoint].kind === "edit"
                        ? "image_url"
                        : "image_urls",
                  ],
                  msg: "The model could not process this input",
                  type: "value_error",
                },
              ],
            }
          : defaultErrorBody(status));
      const errorType = status === 422 ? "validation_error" : (defaultErrorBody(status).error_type ?? "internal_error");
      job.failure = { status, body, errorType, error: `Invalid status code: ${status}` };
    }
    jobs.set(job.requestId, job);
    return job;
  }

  // --- operations -------------------------------------------------------------------------

  function submit(endpoint: EndpointId, request: Request, bodyText: string, url: URL, base: string, extra: Fault[]): Response {
    const parsed = parseBody(bodyText);
    if (!parsed.ok) return parsed.response;
    const checked = validateInput<Record<string, unknown>>(endpoint, parsed.value);
    if (!checked.ok) return json(toHttpValidationError(checked.issues), 422, { "x-fal-error-type": "validation_error" });
    const webhookUrl = url.searchParams.get("fal_webhook") ?? undefined;
    if (webhookUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(webhookUrl)) {
      const detail = [
        { loc: ["query", "fal_webhook"], msg: "Input should be a valid URL", type: "url_parsing", input: webhookUrl },
      ];
      return json({ detail }, 422, { "x-fal-error-type": "validation_error" });
    }
    const job = createJob(
      endpoint,
      checked.value,
      base,
      webhookUrl,
      false,
      extra.find((f) => f.kind === "fail-at-result"),
    );
    // fal's start timeout: a job still queued when `x-fal-request-timeout` seconds have passed fails
    // with a 504 that clients must not retry (`x-fal-request-timeout-type: user`).
    const startTimeout = Number(request.headers.get("x-fal-request-timeout"));
    if (startTimeout > 0 && startTimeout * 1000 < timeline.queueSteps * timeline.stepMs) {
      job.endedAt = job.submittedAt + startTimeout * 1000;
      job.failure = {
        status: 504,
        body: { detail: "Request timed out", error_type: "request_timeout" },
        errorType: "request_timeout",
        error: "Request timed out",
        headers: { "x-fal-request-timeout-type": "user" },
      };
    }
    scheduleCompletion(job);
    const body = {
      status: "IN_QUEUE",
      request_id: job.requestId,
      ...urls(base, job),
      queue_position: Math.max(0, timeline.queueSteps - 1),
    };
    return json(body, 200, { "x-fal-request-id": job.requestId });
  }

  function run(endpoint: EndpointId, bodyText: string, base: string, extra: Fault[]): Response {
    const parsed = parseBody(bodyText);
    if (!parsed.ok) return parsed.response;
    const checked = validateInput<Record<string, unknown>>(endpoint, parsed.value);
    if (!checked.ok) return json(toHttpValidationError(checked.issues), 422, { "x-fal-error-type": "validation_error" });
    const job = createJob(
      endpoint,
      checked.value,
      base,
      undefined,
      true,
      extra.find((f) => f.kind === "fail-at-result"),
    );
    const r = resultOf(job, base);
    return json(r.body, r.status, r.headers);
  }

  function status(job: Job, base: string, url: URL): Response {
    const body = statusBody(job, base, wantsLogs(url));
    return json(body, body.status === "COMPLETED" ? 200 : 202, { "x-fal-request-id": job.requestId });
  }

  function stream(job: Job, base: string, url: URL, request: Request, dropAfter: number | undefined): Response {
    const withLogs = wantsLogs(url);
    let last = "";
    let sent = 0;
    let cancelTimer: CancelTimer | undefined;
    let done = false;
    let dropping = false;
    let lastWrite = clock.now();
    const DROPPED = () => new Error("status stream dropped by a fault");
    const stop = () => {
      done = true;
      cancelTimer?.();
      job.listeners.delete(onChange);
      request.signal?.removeEventListener("abort", stop);
    };
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const tick = () => {
      if (done) return;
      cancelTimer = undefined;
      if (!jobs.has(job.requestId)) {
        // A queued job that was cancelled is gone: end the stream without a COMPLETED event.
        stop();
        controller.close();
        return;
      }
      // One reading of the clock per tick: the state sent and the next wake-up must agree.
      const now = clock.now();
      const body = statusBody(job, base, withLogs, now);
      const text = JSON.stringify(body);
      if (text === last && now - lastWrite >= keepAliveMs) {
        controller.enqueue(encoder.encode(": keep-alive\n\n"));
        lastWrite = now;
      }
      if (text !== last) {
        if (dropAfter !== undefined && sent >= dropAfter) {
          // Break only once the events already sent were read, as a socket would deliver them first.
          stop();
          dropping = true;
          if ((controller.desiredSize ?? 0) > 0) controller.error(DROPPED());
          return;
        }
        last = text;
        sent++;
        lastWrite = now;
        controller.enqueue(encoder.encode(`data: ${text}\n\n`));
      }
      if (body.status === "COMPLETED") {
        stop();
        controller.close();
        return;
      }
      const edge = nextEdge(job.timeline, now - job.submittedAt);
      // A job can also end off the step grid (a start timeout).
      const wake = Math.min(
        edge === undefined ? Number.POSITIVE_INFINITY : job.submittedAt + edge,
        job.endedAt ?? Number.POSITIVE_INFINITY,
        lastWrite + keepAliveMs,
      );
      if (Number.isFinite(wake)) cancelTimer = setTimer(tick, Math.max(0, wake - now));
    };
    const onChange = () => {
      cancelTimer?.();
      tick();
    };
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        job.listeners.add(onChange);
        request.signal?.addEventListener("abort", stop, { once: true });
        tick();
      },
      pull(c) {
        if (dropping) c.error(DROPPED());
      },
      cancel() {
        stop();
      },
    });
    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-fal-request-id": job.requestId },
    });
  }

  function result(job: Job, base: string): Response {
    if (job.state !== "COMPLETED") return flat(400, "Request is still in progress", "request_in_progress");
    const r = resultOf(job, base);
    return json(r.body, r.status, r.headers);
  }

  function cancel(job: Job | undefined): Response {
    if (!job) return json({ status: "NOT_FOUND" }, 404);
    const phase = job.phase();
    if (phase.state === "COMPLETED") return json({ status: "ALREADY_COMPLETED" }, 400);
    if (phase.state === "IN_QUEUE") {
      // fal removes a queued job at once: it is simply gone afterwards.
      job.dispose();
      jobs.delete(job.requestId);
      job.notify();
      return json({ status: "CANCELLATION_REQUESTED" }, 202);
    }
    // A running job is told to stop; the mock's runner always obeys, at once.
    job.endedAt = clock.now();
    job.cancelled = true;
    job.failure = {
      status: 400,
      body: { detail: "Request was cancelled", error_type: "client_cancelled" },
      errorType: "client_cancelled",
      error: "Request was cancelled",
    };
    scheduleCompletion(job);
    job.notify();
    return json({ status: "CANCELLATION_REQUESTED" }, 202);
  }

  function file(match: RegExpExecArray): Response {
    const job = getJob(match[1]!);
    const index = Number(match[2]);
    const ext = match[3] === "png" ? "png" : "jpeg";
    const f = job && job.state === "COMPLETED" && !job.failure ? job.generation.files[index] : undefined;
    if (!f || job?.generation.format !== ext) return notFound();
    return new Response(f.bytes as BodyInit, {
      status: 200,
      headers: {
        "content-type": f.contentType,
        "content-length": String(f.bytes.length),
        "cache-control": "public, max-age=3600",
      },
    });
  }

  // --- faults -----------------------------------------------------------------------------

  async function applyFaults(hits: Fault[], operation: MockOperation, signal: AbortSignal | null): Promise<Response | undefined> {
    const latency = hits.reduce((ms, f) => (f.kind === "latency" ? ms + Math.max(0, f.ms ?? 1000) : ms), 0);
    if (latency > 0) await sleepOn(clock, latency, signal);
    for (const f of hits) {
      switch (f.kind) {
        case "reset":
          return Response.error();
        case "status": {
          const code = f.status ?? defaultFaultStatus(operation);
          const headers: Record<string, string> = { ...(f.headers ?? {}) };
          if (f.retryAfter !== undefined) headers["retry-after"] = String(f.retryAfter);
          const body = f.body ?? defaultErrorBody(code);
          const errorType = (body as { error_type?: unknown })?.error_type;
          if (code >= 500 && typeof errorType === "string") headers["x-fal-error-type"] ??= errorType;
          if (code >= 500 || code === 429) headers["x-fal-retryable"] ??= "true";
          return json(body, code, headers);
        }
        case "malformed-json":
          return new Response('{"status": "IN_QUEUE", "request_id": "', {
            status: f.status ?? 200,
            headers: { "content-type": "application/json" },
          });
        case "html": {
          const code = f.status ?? 502;
          const page =
            f.html ??
            `<!DOCTYPE html><html><head><title>${code} Bad Gateway</title></head><body><h1>${code} Bad Gateway</h1><hr><p>nginx</p></body></html>`;
          return new Response(page, { status: code, headers: { "content-type": "text/html; charset=utf-8" } });
        }
        default:
          break;
      }
    }
    return undefined;
  }

  // --- routing ----------------------------------------------------------------------------

  const handler: MockHandler = async (request, context) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return notFound();
    }
    const method = request.method.toUpperCase();
    let bodyText = "";
    try {
      if (method !== "GET" && method !== "HEAD") bodyText = await request.text();
    } catch {
      return malformedJson();
    }
    const entry = record(request, url, parseRecorded(bodyText, request.headers.get("content-type")));
    try {
      sweep();
      // Where the queue lives: the adapter says so, or it is the request's own origin
      // (with `/sync` on the same origin, and fal.run-style hosts, being sync runs).
      let base = context?.base ?? url.origin;
      let sync = context?.sync ?? (SYNC_HOST.test(url.hostname) && !QUEUE_HOST.test(url.hostname));
      const basePath = context ? new URL(base).pathname.replace(/\/$/, "") : "";
      let path = url.pathname;
      if (basePath && path.startsWith(basePath)) path = path.slice(basePath.length) || "/";
      if (!context && !sync && (path === "/sync" || path.startsWith("/sync/")) && method === "POST") {
        sync = true;
        base = `${base}/sync`;
        path = path.slice(5);
      }
      try {
        path = decodeURIComponent(path);
      } catch {
        return notFound();
      }
      const origin = base.replace(/\/sync$/, "");

      // The webhook signing key, for a receiver's `jwksUrl`; public, like fal's.
      if (path === "/.well-known/jwks.json" && (method === "GET" || method === "HEAD")) {
        return Response.json(await webhookJwks(), { headers: { "cache-control": "max-age=3600" } });
      }

      // Files are served on any host the mock answers, without credentials (like a CDN).
      const fileMatch = FILE_PATH.exec(path);
      if (fileMatch) {
        if (method !== "GET" && method !== "HEAD") return methodNotAllowed();
        entry.operation = "files";
        const early = await applyFaults(faults.take({ operation: "files", requestId: fileMatch[1] }), "files", request.signal);
        return early ?? file(fileMatch);
      }

      const headerFault = faultFromHeader(request.headers.get(FAULT_HEADER));
      const take = (operation: MockOperation, endpoint?: string, requestId?: string) => {
        entry.operation = operation;
        const hits = faults.take({ operation, endpoint, requestId });
        return headerFault ? [...hits, headerFault] : hits;
      };

      const endpointId = path.slice(1).replace(/\/$/, "");
      if (sync || isEndpointId(endpointId)) {
        if (!isEndpointId(endpointId)) return notFound();
        if (method !== "POST") return methodNotAllowed();
        const operation = sync ? "run" : "submit";
        const hits = take(operation, endpointId);
        const early = await applyFaults(hits, operation, request.signal);
        if (early) return early;
        if (!authorized(request)) return unauthorized();
        return sync ? run(endpointId, bodyText, origin, hits) : submit(endpointId, request, bodyText, url, base, hits);
      }

      const m = REQUEST_PATH.exec(path);
      if (!m || !APP_PATHS.has(m[1]!)) return notFound();
      const [, app, requestId, suffix = "", streamSuffix] = m;
      const operation: MockOperation = suffix === "/cancel" ? "cancel" : streamSuffix ? "stream" : suffix ? "status" : "result";
      const expected = operation === "cancel" ? "PUT" : "GET";
      if (method !== expected && !(method === "HEAD" && expected === "GET")) return methodNotAllowed();
      const known = getJob(requestId!);
      const job = known && endpoints[known.endpoint].appPath === app ? known : undefined;
      const hits = take(operation, job?.endpoint, requestId);
      const early = await applyFaults(hits, operation, request.signal);
      if (early) return early;
      if (!authorized(request)) return unauthorized();
      if (operation === "cancel") return cancel(job);
      if (!job) return requestNotFound();
      if (operation === "status") return status(job, origin, url);
      if (operation === "result") return result(job, origin);
      const drop = hits.find((f) => f.kind === "stream-drop");
      return stream(job, origin, url, request, drop?.kind === "stream-drop" ? (drop.afterEvents ?? 1) : undefined);
    } catch (error) {
      if (request.signal?.aborted) throw error;
      // Never crash the host: an unexpected error is a fal-shaped 500.
      return flat(500, "Internal server error", "internal_error");
    }
  };

  const mockFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (signal?.aborted) throw signal.reason;
    const response = await raceAbort(handler(request), signal);
    if (isConnectionReset(response)) {
      // What undici throws when the peer resets: a TypeError whose cause carries the code.
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) });
    }
    if (!signal || !response.body) return response;
    // Aborting after the headers arrived must still break the body, as fetch does.
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), { signal });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }) as typeof fetch;

  const mock = handler as KontextMock;
  Object.defineProperties(mock, {
    handler: { value: handler, enumerable: true },
    fetch: { value: mockFetch, enumerable: true },
    requests: { value: requests, enumerable: true },
    jobs: { value: jobs, enumerable: true },
    webhooks: { value: webhooks, enumerable: true },
    webhookJwks: { value: webhookJwks, enumerable: true },
    clock: { value: clock, enumerable: true },
    addFault: { value: (rule: FaultRule) => faults.add(rule), enumerable: true },
    reset: {
      value: () => {
        for (const job of jobs.values()) {
          job.dispose();
          jobs.delete(job.requestId);
          job.notify();
        }
        requests.length = 0;
        webhooks.length = 0;
        faults.clear(options.faults);
      },
      enumerable: true,
    },
  });
  return mock;
}

function wantsLogs(url: URL): boolean {
  const v = url.searchParams.get("logs");
  return v === "1" || v === "true";
}

function redact(value: string): string {
  const scheme = /^(Key|Bearer)\s/i.exec(value)?.[1];
  return scheme ? `${scheme} [redacted]` : "[redacted]";
}

function parseRecorded(text: string, contentType: string | null): unknown {
  if (!text) return undefined;
  if (contentType?.includes("json") || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A spec-listed error status for each operation, so a bare `{kind:"status"}` fault stays spec-valid. */
function defaultFaultStatus(operation: MockOperation): number {
  if (operation === "result") return 503;
  if (operation === "run") return 504;
  if (operation === "files") return 500;
  return 429;
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

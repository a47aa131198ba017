/**
 * The client: the transport, the queue calls, submit, the job handle and sync runs, put together.
 * Each piece lives in its own module; this one only wires them and holds the public entry points.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import { QUEUE_BASE_URL, validateInput } from "@kontext-sdk/schema";
import { originOf } from "@kontext-sdk/schema/protocol";
import { isBrowser } from "./credentials.js";
import { customHostRefusal, KontextError, type SecretsOf } from "./errors.js";
import type { FollowState } from "./follow.js";
import { createTransport, type Send } from "./http.js";
import { DEFAULT_UPLOAD_THRESHOLD } from "./inputs.js";
import { createJob, type JobContext } from "./job.js";
import { createQueueCalls, streamUrlOf } from "./queue.js";
import { createRun, SYNC_HOST } from "./run.js";
import { createStorage, type KontextStorage, STORAGE_HOST } from "./storage.js";
import { type BodyOptions, createSubmit } from "./submit.js";
import type { KontextClient, KontextClientOptions, KontextInput, KontextLiteClient, StartOptions } from "./types.js";

export { nextPollWait, POLL_BACKOFF, STREAM_IDLE_MS, STREAM_REOPENS } from "./follow.js";
export type * from "./types.js";

/** fal's queue host (the spec's `QUEUE_BASE_URL`). */
export const QUEUE_HOST: string = QUEUE_BASE_URL;

/**
 * The client, validating inputs with the schema's compiled validators unless `validate: false`. The typed
 * openapi-fetch client over the spec's paths is `createKontextRawClient` (its own entry point, so a bundle
 * that only runs jobs does not carry openapi-fetch).
 */
export function createKontextClient(options: KontextClientOptions = {}): KontextClient {
  const { validate } = options;
  return build({
    ...options,
    validate: validate === false ? false : typeof validate === "function" ? validate : validateInput,
  })[0];
}

/**
 * The lifecycle alone, for bundles that count bytes: no compiled validators. Inputs are checked only when
 * `validate` is a function (e.g. `validateInput` from `@kontext-sdk/schema`).
 */
export function createKontextClientLite(options: KontextClientOptions = {}): KontextLiteClient {
  return build(options)[0];
}

/**
 * One of fal's other hosts (fal.run for `run()`, rest.fal.ai for storage): the one given, fal's when the
 * queue host is fal's too, and none for a custom queue host (a gateway's credentials must not reach fal;
 * see `createRun` and `storageFor`).
 */
function falHostOf(options: KontextClientOptions, given: string | undefined, falHost: string): string | undefined {
  if (given) return given;
  return !options.baseUrl || originOf(options.baseUrl) === originOf(QUEUE_HOST) ? falHost : undefined;
}

/** `storage.upload`, or a stand-in that explains why there is no storage host. */
function storageFor(
  send: Send,
  options: KontextClientOptions,
  storageBase: string | undefined,
  secrets: SecretsOf,
): KontextStorage {
  if (storageBase)
    return createStorage(send, options.fetch ?? ((...args) => globalThis.fetch(...args)), storageBase, secrets, options.retry);
  return {
    upload: async () => {
      throw customHostRefusal("storage.upload", "storageBaseUrl", options.baseUrl, STORAGE_HOST);
    },
  };
}

/** The lifecycle and the transport it runs on (the raw client reuses the transport; not public). */
export function build(options: KontextClientOptions): [KontextLiteClient, Send] {
  const base = options.baseUrl ?? QUEUE_HOST;
  const syncBase = falHostOf(options, options.syncBaseUrl, SYNC_HOST);
  if (isBrowser() && typeof options.credentials === "string" && !options.proxyUrl && !options.dangerouslyAllowBrowser) {
    throw new KontextError("A raw key in a browser is public: use proxyUrl, a credentials function, or dangerouslyAllowBrowser");
  }
  const storageBase = falHostOf(options, options.storageBaseUrl, STORAGE_HOST);
  const transport = createTransport(
    options,
    [base, syncBase, storageBase].filter((host): host is string => !!host),
  );
  const { send } = transport;
  // The transport redacts its own errors; the modules that build errors from answers it handed back (a 2xx
  // of the wrong shape, a status event, a storage answer) redact theirs at their exit with this, so each
  // error is redacted where it is made and every entry point (the job handle, run's uploads) is covered.
  const secrets: SecretsOf = () => [transport.currentKey()];
  const queue = createQueueCalls(send, base, transport.maxResponseBytes, secrets);
  const storage = storageFor(send, options, storageBase, secrets);
  const threshold = options.uploadThreshold ?? DEFAULT_UPLOAD_THRESHOLD;
  // Large binary images go to storage and travel as a short URL; without a storage host they stay inline.
  const bodyOptions: BodyOptions = {
    validate: options.validate,
    uploader:
      storageBase && threshold !== false ? { threshold, upload: (data, signal) => storage.upload(data, { signal }) } : undefined,
  };
  const submit = createSubmit(send, queue, base, bodyOptions, secrets);
  const context: JobContext = { queue, secrets };

  function start<E extends EndpointId>(endpoint: E, input: KontextInput<E>, startOptions: StartOptions = {}) {
    const submitted: Promise<FollowState> = submit(endpoint, input, startOptions).then((job) => ({
      requestId: job.requestId,
      urls: job,
      last: job.status,
      silences: 0,
    }));
    return createJob(context, endpoint, submitted, startOptions);
  }

  const client: KontextLiteClient = {
    submit,
    status: (endpoint, requestId, callOptions) =>
      queue.status(queue.urls(endpoint, requestId).statusUrl, { ...callOptions, requestId }),
    async *streamStatus(endpoint, requestId, callOptions) {
      yield* queue.stream(streamUrlOf(queue.urls(endpoint, requestId).statusUrl), { ...callOptions, requestId });
    },
    result: (endpoint, requestId, callOptions) =>
      queue.result(queue.urls(endpoint, requestId).responseUrl, { ...callOptions, requestId }),
    cancel: (endpoint, requestId, callOptions) =>
      queue.cancel(queue.urls(endpoint, requestId).cancelUrl, { ...callOptions, requestId }),
    start,
    job: (endpoint, requestId, jobOptions) =>
      createJob(
        context,
        endpoint,
        Promise.resolve({ requestId, urls: queue.urls(endpoint, requestId), silences: 0 }),
        jobOptions,
      ),

    async subscribe(endpoint, input, subscribeOptions = {}) {
      // The job's own timeout cancels it on the server and rejects the waits below with KontextTimeoutError.
      const job = start(endpoint, input, subscribeOptions);
      const { signal } = subscribeOptions;
      subscribeOptions.onEnqueue?.(await job.requestId);
      for await (const status of job.statuses({ signal })) subscribeOptions.onQueueUpdate?.(status);
      return await job.result({ signal });
    },

    run: createRun(send, syncBase, options, bodyOptions),
    storage,
  };
  return [client, send];
}

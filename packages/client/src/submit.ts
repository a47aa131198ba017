/**
 * Submitting a job: the input checked and encoded, fal's options mapped to headers and query, and the
 * answer read into the URLs the job will use.
 */
import { type EndpointId, INPUT_LIMITS, type SubmitResponse } from "@kontext-sdk/schema";
import { FAL_HEADERS, FAL_QUERY, joinUrl } from "@kontext-sdk/schema/protocol";
import { KontextApiError, KontextValidationError, redactingErrors, type SecretsOf } from "./errors.js";
import type { Send } from "./http.js";
import { type ImageUploader, prepareInput, utf8Length } from "./inputs.js";
import type { QueueCalls } from "./queue.js";
import { lifecycleJson } from "./storage.js";
import type {
  InputValidator,
  KontextClientOptions,
  KontextInput,
  PlatformOptions,
  SubmitOptions,
  SubmitResult,
} from "./types.js";
import { pickUrl } from "./urls.js";

/** How an input becomes a body: the validator (if any) and the uploader for large binary images (if any). */
export interface BodyOptions {
  validate: KontextClientOptions["validate"];
  uploader?: ImageUploader;
}

/**
 * Binary images encoded (or uploaded), then the input checked (when a validator is set), as the JSON body to
 * send. A body over the spec's bound (`INPUT_LIMITS.maxBodyBytes`) is refused here, validator or not: the
 * proxy and fal would answer 413. Its UTF-8 size is at least its length and at most 3 times it, so only a
 * body that may be over is encoded to count.
 */
export async function prepareBody(endpoint: string, input: unknown, { validate, uploader }: BodyOptions, signal?: AbortSignal) {
  const value = await prepareInput(input, uploader, signal);
  const prefix = `Invalid input for ${endpoint}`;
  const checked = typeof validate === "function" && (validate as InputValidator)(endpoint, value);
  if (checked && !checked.ok) throw new KontextValidationError(checked.issues, { prefix });
  const body = JSON.stringify(value);
  const bound = INPUT_LIMITS.maxBodyBytes;
  const size = body.length * 3 > bound ? utf8Length(body) : 0;
  if (size > bound) {
    const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
    const message =
      `the request body is ${size} bytes (${mib(size)}), over the bound of ${bound} bytes (${mib(bound)}): pass images as URLs, ` +
      "upload them with client.storage.upload, or set storageBaseUrl (custom gateway) so large ones upload automatically";
    throw new KontextValidationError([{ path: "", field: "body", value: size, rule: "maxBodyBytes", message }], { prefix });
  }
  return body;
}

/**
 * fal's platform options as headers, for submits and sync runs alike (fal docs: common-parameters);
 * `startTimeout` checked first (fal and both of its SDKs require > 1 s).
 */
export function platformHeaders(options: PlatformOptions): Record<string, string> {
  const { startTimeout, objectLifecycle } = options;
  if (startTimeout !== undefined && !(startTimeout > 1)) {
    const message = `startTimeout must be more than 1 second (got ${startTimeout})`;
    throw new KontextValidationError([
      { path: "", field: "startTimeout", value: startTimeout, rule: "exclusiveMinimum", message },
    ]);
  }
  const headers: Record<string, string> = { ...options.headers };
  if (startTimeout) headers[FAL_HEADERS.requestTimeout] = String(startTimeout);
  if (options.hint) headers[FAL_HEADERS.runnerHint] = options.hint;
  if (options.storeIO === false) headers[FAL_HEADERS.storeIO] = "0";
  if (objectLifecycle) headers[FAL_HEADERS.objectLifecycle] = lifecycleJson(objectLifecycle);
  return headers;
}

/** The queue's own options on top: priority, no server-side retries. */
function submitHeaders(options: SubmitOptions): Record<string, string> {
  const headers = platformHeaders(options);
  if (options.priority) headers[FAL_HEADERS.queuePriority] = options.priority;
  if (options.noRetry) headers[FAL_HEADERS.noRetry] = "1";
  return headers;
}

/** `?fal_webhook=…&fal_max_queue_length=…`, or nothing. */
function submitQuery(options: SubmitOptions): string {
  const query = new URLSearchParams();
  if (options.webhookUrl) query.set(FAL_QUERY.webhook, options.webhookUrl);
  if (options.maxQueueLength !== undefined) {
    if (!Number.isInteger(options.maxQueueLength) || options.maxQueueLength < 0) {
      const message = `maxQueueLength must be a whole number of jobs, 0 or more (got ${options.maxQueueLength})`;
      throw new KontextValidationError([
        { path: "", field: "maxQueueLength", value: options.maxQueueLength, rule: "minimum", message },
      ]);
    }
    query.set(FAL_QUERY.maxQueueLength, String(options.maxQueueLength));
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

export type Submit = <E extends EndpointId>(
  endpoint: E,
  input: KontextInput<E>,
  options?: SubmitOptions,
) => Promise<SubmitResult>;

/**
 * `secrets` is the transport's key: a submit answer of the wrong shape becomes an error here, after the
 * transport handed it back, so the submit redacts what it throws itself (see `redactingErrors`).
 */
export function createSubmit(
  send: Send,
  queue: QueueCalls,
  base: string,
  bodyOptions: BodyOptions,
  secrets: SecretsOf = () => [],
): Submit {
  const submit: Submit = async (endpoint, input, options = {}) => {
    const headers = submitHeaders(options);
    const url = joinUrl(base, `/${endpoint}`) + submitQuery(options);
    const body = await prepareBody(endpoint, input, bodyOptions, options.signal);
    let answer: SubmitResponse | undefined;
    let headerId: string | null | undefined;
    try {
      const [data, response] = await send({ method: "POST", url, body, headers, signal: options.signal, once: true });
      answer = data as SubmitResponse | undefined;
      headerId = response.headers.get(FAL_HEADERS.requestId);
    } catch (error) {
      // A 2xx with a garbled body still queued a job: when its id came in a header, keep it rather than lose it.
      if (!(error instanceof KontextApiError && error.status >= 200 && error.status < 300 && error.requestId)) throw error;
      headerId = error.requestId;
    }
    const requestId = typeof answer?.request_id === "string" ? answer.request_id : headerId;
    if (!requestId) throw new KontextApiError("POST submit: the answer has no request_id", { status: 200, body: answer });
    const built = queue.urls(endpoint, requestId);
    const statusUrl = pickUrl(answer?.status_url, base, built.statusUrl);
    const responseUrl = pickUrl(answer?.response_url, base, built.responseUrl);
    const cancelUrl = pickUrl(answer?.cancel_url, base, built.cancelUrl);
    return {
      requestId,
      status: "IN_QUEUE",
      queuePosition: answer?.queue_position ?? 0,
      statusUrl,
      responseUrl,
      cancelUrl,
      body: answer ?? {
        status: "IN_QUEUE",
        request_id: requestId,
        queue_position: 0,
        status_url: statusUrl,
        response_url: responseUrl,
        cancel_url: cancelUrl,
      },
    };
  };
  return (endpoint, input, options) => redactingErrors(secrets, submit(endpoint, input, options));
}

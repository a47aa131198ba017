/**
 * The header names of fal's protocol, in one place (lower case: `Headers` compares case-insensitively).
 * Sources: fal-js headers.ts / request.ts, fal's docs (common-parameters, reliability, webhooks).
 */
export const FAL_HEADERS = {
  /** The request id, on queue answers and sync results. */
  requestId: "x-fal-request-id",
  /** fal's error type (`request_timeout`, `runner_disconnected`, …) on infrastructure errors. */
  errorType: "x-fal-error-type",
  /** `true`/`false`: whether asking again may succeed, set on model errors. */
  retryable: "x-fal-retryable",
  /** Seconds the job may wait before it must start (`> 1`); 504 with the timeout type `user` when it expires. */
  requestTimeout: "x-fal-request-timeout",
  /** `user` when a 504 comes from the caller's own start timeout (never retried). */
  requestTimeoutType: "x-fal-request-timeout-type",
  /** `normal` or `low`. */
  queuePriority: "x-fal-queue-priority",
  /** A routing hint for fal's runners. */
  runnerHint: "x-fal-runner-hint",
  /** `1`/`true`: fal does not retry the job server-side. */
  noRetry: "x-fal-no-retry",
  /** `0`: fal stores no inputs or outputs of the job. */
  storeIO: "x-fal-store-io",
  /** JSON `{expiration_duration_seconds, initial_acl}` for the job's output files. */
  objectLifecycle: "x-fal-object-lifecycle-preference",
  /** The same JSON for an uploaded file, on a storage initiate (spec/storage.yaml `UploadLifecycle`). */
  uploadLifecycle: "x-fal-object-lifecycle",
  /** fal's proxy protocol: the real URL of a call sent to a proxy (fal-js `proxyUrl`, @fal-ai/server-proxy). */
  targetUrl: "x-fal-target-url",
} as const;

/** fal's query parameters on submit. */
export const FAL_QUERY = {
  /** The URL fal POSTs the outcome to. */
  webhook: "fal_webhook",
  /** Refuse (429) when the app's queue is longer than this. */
  maxQueueLength: "fal_max_queue_length",
} as const;

/** `X-Fal-Retryable` read as a boolean; undefined when absent (then the status decides). */
export function retryableHint(value: string | null | undefined): boolean | undefined {
  if (value == null) return undefined;
  return /^(1|true|yes)$/i.test(value.trim());
}

/** True when a 504 is the caller's own start timeout (`x-fal-request-timeout-type: user`): never retried. */
export function isUserTimeout(headers: Headers): boolean {
  return headers.get(FAL_HEADERS.requestTimeoutType) === "user";
}

/**
 * `Retry-After` (seconds or an HTTP date) in milliseconds, never negative; undefined when absent or
 * unreadable. Callers cap it: a hostile server must not be able to stall them.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

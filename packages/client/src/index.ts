/**
 * @kontext-sdk/client — a typed fetch client for FLUX.1 Kontext on fal.ai (and fal-compatible gateways)
 * with the whole queue lifecycle: submit → status / status stream → result, cancel, the job handle
 * (`start` / `job`), subscribe, sync run.
 *
 *   client.ts   createKontextClient / createKontextClientLite: the pieces below, wired
 *   types.ts    the public options, results, KontextJob and KontextClient
 *   http.ts     the transport: auth, proxy, per-call timeout, response size cap, retries
 *   queue.ts    status, status stream, result, cancel of one request
 *   submit.ts   submit: options → headers, answer → the job's URLs
 *   follow.ts   following a job: stream, reopen when silent, adaptive polling
 *   job.ts      the job handle (start / job / subscribe build on it)
 *   run.ts      sync runs, and the rule for which host they may go to
 *   storage.ts  storage.upload: fal's upload flow (initiate, signed PUT, parts above 90 MB)
 *   raw.ts      createKontextRawClient: openapi-fetch over the spec's paths, on the same transport
 *   stream.ts   the SSE reader of fal's status stream
 *   errors.ts   the error classes (KontextError is the protocol core's)
 *   credentials.ts, inputs.ts, retry.ts, signals.ts, urls.ts: keys, binary images, backoff, abort wiring, paths
 */

// Schema types callers meet in these signatures, re-exported so one import is enough.
export type {
  CancelResponse,
  EndpointId,
  InputOf,
  OutputOf,
  QueueStatus,
  SubmitResponse,
  ValidationIssue,
} from "@kontext-sdk/schema";
export { type ImageMime, sniffImageType } from "@kontext-sdk/schema/protocol";
export {
  createKontextClient,
  createKontextClientLite,
  POLL_BACKOFF,
  STREAM_IDLE_MS,
  STREAM_REOPENS,
} from "./client.js";
export type { Credentials } from "./credentials.js";
export {
  isKontextError,
  KontextApiError,
  type KontextApiErrorInit,
  KontextCancelledError,
  KontextError,
  KontextNetworkError,
  KontextRequestNotFoundError,
  KontextTimeoutError,
  KontextValidationError,
} from "./errors.js";
export { DEFAULT_MAX_RESPONSE_BYTES } from "./http.js";
export { type BinaryImage, DEFAULT_UPLOAD_THRESHOLD, toDataUri, type WithBinaryImages } from "./inputs.js";
export { createKontextRawClient } from "./raw.js";
export { DEFAULT_RETRY, isConnectionRefused, type RetryOptions } from "./retry.js";
export {
  type KontextStorage,
  MULTIPART_PART_BYTES,
  MULTIPART_THRESHOLD_BYTES,
  type ObjectLifecycle,
  STORAGE_HOST,
  type UploadOptions,
  type UploadProgress,
} from "./storage.js";
export type {
  FollowOptions,
  InputValidator,
  JobOptions,
  KontextClient,
  KontextClientOptions,
  KontextInput,
  KontextJob,
  KontextLiteClient,
  KontextRawClient,
  KontextResult,
  PlatformOptions,
  RequestOptions,
  RunOptions,
  StartOptions,
  StatusesOptions,
  StatusOptions,
  SubmitOptions,
  SubmitResult,
  SubscribeOptions,
} from "./types.js";
export { appPath, type QueueUrls, queueUrls } from "./urls.js";

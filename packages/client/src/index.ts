/**
 * @kontext-sdk/client — a typed fetch client for FLUX.1 Kontext on fal.ai (and fal-compatible gateways)
 * with the whole queue lifecycle: submit → status / status stream → result, cancel, subscribe, sync run.
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
export {
  createKontextClient,
  createKontextClientLite,
  type InputValidator,
  type KontextClient,
  type KontextClientOptions,
  type KontextInput,
  type KontextLiteClient,
  type KontextRawClient,
  type KontextResult,
  POLL_BACKOFF,
  type RequestOptions,
  type RunOptions,
  type StatusOptions,
  type SubmitOptions,
  type SubmitResult,
  type SubscribeOptions,
} from "./client.js";
export type { Credentials } from "./credentials.js";
export {
  isKontextError,
  KontextApiError,
  type KontextApiErrorInit,
  KontextError,
  KontextNetworkError,
  KontextTimeoutError,
  KontextValidationError,
} from "./errors.js";
export { type BinaryImage, sniffImageType, toDataUri, type WithBinaryImages } from "./inputs.js";
export { DEFAULT_RETRY, type RetryOptions } from "./retry.js";
export { appPath, type QueueUrls, queueUrls } from "./urls.js";

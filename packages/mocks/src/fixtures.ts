/**
 * @kontext-sdk/mocks/fixtures — static, typed examples of every body the queue answers,
 * for tests that want a value rather than a running mock. Each one is checked against
 * spec/dist/openapi.json by this package's tests. `errorResponses` holds every error shape fal sends
 * (status, body and headers), for replaying fal's real answers through a client or a validator.
 */

import type {
  CancelResponse,
  CompletedStatus,
  ErrorBody,
  FlatError,
  HTTPValidationError,
  InProgressStatus,
  InQueueStatus,
  KontextOutput,
  SubmitResponse,
  WebhookPayload,
} from "@kontext-sdk/schema";
import { FAL_ERROR_SHAPES } from "./error-shapes.js";

export const REQUEST_ID = "764cabcf-b745-4b3e-ae38-1200304cf45b";
const BASE = `https://queue.fal.run/fal-ai/flux-pro/requests/${REQUEST_ID}`;
const urls = { response_url: BASE, status_url: `${BASE}/status`, cancel_url: `${BASE}/cancel` } as const;

/** Queue statuses, in the order a job goes through them. */
export const queueStatuses = {
  submitted: { status: "IN_QUEUE", request_id: REQUEST_ID, ...urls, queue_position: 1 } satisfies SubmitResponse,
  /** The submit answer as fal's queue docs show it: the id and the three URLs (and the gateway's id). */
  submittedAsDocumented: { request_id: REQUEST_ID, gateway_request_id: REQUEST_ID, ...urls } satisfies SubmitResponse,
  inQueue: { status: "IN_QUEUE", request_id: REQUEST_ID, ...urls, queue_position: 0 } satisfies InQueueStatus,
  inProgress: { status: "IN_PROGRESS", request_id: REQUEST_ID, ...urls, logs: null } satisfies InProgressStatus,
  inProgressWithLogs: {
    status: "IN_PROGRESS",
    request_id: REQUEST_ID,
    ...urls,
    logs: [
      { message: "Step 1 of 3: generating 1 image(s)", level: "INFO", source: "user", timestamp: "2025-01-01T00:00:00.400Z" },
      { message: "Step 2 of 3: generating 1 image(s)", level: "INFO", source: "user", timestamp: "2025-01-01T00:00:00.600Z" },
    ],
  } satisfies InProgressStatus,
  completed: {
    status: "COMPLETED",
    request_id: REQUEST_ID,
    ...urls,
    metrics: { inference_time: 1.22 },
  } satisfies CompletedStatus,
  completedWithError: {
    status: "COMPLETED",
    request_id: REQUEST_ID,
    ...urls,
    metrics: { inference_time: null },
    error: "Invalid status code: 500",
    error_type: "internal_error",
  } satisfies CompletedStatus,
  /** fal has no FAILED status: a job whose input the model refused is COMPLETED, its result is the 422. */
  completedWithValidationError: {
    status: "COMPLETED",
    request_id: REQUEST_ID,
    ...urls,
    metrics: { inference_time: null },
    error: "Invalid status code: 422",
    error_type: "validation_error",
  } satisfies CompletedStatus,
} as const;

const image = (format: "jpeg" | "png", width: number, height: number, index = 0) => ({
  url: `https://queue.fal.run/files/${REQUEST_ID}/${index}.${format}`,
  content_type: `image/${format}`,
  file_name: `${index}.${format}`,
  file_size: format === "png" ? 12_345 : 1_234,
  width,
  height,
});

/** Outputs of the result operation (and of a sync run). */
export const outputs = {
  textToImage: {
    images: [image("jpeg", 64, 64)],
    timings: { inference: 1.22 },
    seed: 42,
    has_nsfw_concepts: [false],
    prompt: "a red fox reading a newspaper in a snowy park",
  } satisfies KontextOutput,
  twoPngsWide: {
    images: [image("png", 64, 36, 0), image("png", 64, 36, 1)],
    timings: { inference: 2.05 },
    seed: 7,
    has_nsfw_concepts: [false, false],
    prompt: "a lighthouse at dusk, 16:9",
  } satisfies KontextOutput,
  edit: {
    images: [{ url: "https://v3.fal.media/files/rabbit/kontext_edit.jpeg", content_type: "image/jpeg" }],
    timings: { inference: 1.8 },
    seed: 0,
    has_nsfw_concepts: [false],
    prompt: "Put a donut next to the flour.",
  } satisfies KontextOutput,
  syncMode: {
    images: [
      {
        // A 1×1 PNG; sync_mode answers data URIs instead of file URLs.
        url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAAD0lEQVR4AQEEAPv/AP9aKAPdAYJWnISOAAAAAElFTkSuQmCC",
        content_type: "image/png",
        width: 1,
        height: 1,
      },
    ],
    timings: { inference: 0.9 },
    seed: 123,
    has_nsfw_concepts: [false],
    prompt: "a single pixel",
  } satisfies KontextOutput,
  /** fal's toolkit declares the image metadata `Optional[…] = None`: it may arrive as `null`. */
  nullMetadata: {
    images: [
      {
        url: "https://v3.fal.media/files/rabbit/kontext_output.jpeg",
        content_type: null,
        file_name: null,
        file_size: null,
        width: null,
        height: null,
      },
    ],
    timings: { inference: 1.1 },
    seed: 11,
    has_nsfw_concepts: [false],
    prompt: "a fox",
  } satisfies KontextOutput,
} as const;

/** Error bodies, by the situation that produces them. */
export const errors = {
  validation: {
    detail: [{ loc: ["body", "num_images"], msg: "Input should be less than or equal to 4", type: "less_than_equal", input: 5 }],
  } satisfies HTTPValidationError,
  missingPrompt: { detail: [{ loc: ["body", "prompt"], msg: "Field required", type: "missing" }] } satisfies HTTPValidationError,
  unauthorized: { detail: "Authorization header is missing or invalid" } satisfies FlatError,
  notFound: { detail: "Not Found" } satisfies FlatError,
  requestNotFound: { detail: "Request not found" } satisfies FlatError,
  malformedJson: { detail: "Request body is not valid JSON", error_type: "bad_request" } satisfies FlatError,
  stillInProgress: { detail: "Request is still in progress", error_type: "request_in_progress" } satisfies FlatError,
  cancelled: { detail: "Request was cancelled", error_type: "client_cancelled" } satisfies FlatError,
  rateLimited: { detail: "Too many requests", error_type: "rate_limited" } satisfies FlatError,
  internal: { detail: "Internal server error", error_type: "internal_error" } satisfies FlatError,
  timeout: { detail: "Request timed out", error_type: "request_timeout" } satisfies FlatError,
  unavailable: { detail: "Runner scheduling failure", error_type: "runner_scheduling_failure" } satisfies FlatError,
  /** A 422 whose `detail` is a plain string (fal-js's `ValidationError` handles it). */
  stringDetail: FAL_ERROR_SHAPES["string-detail-422"].body satisfies FlatError,
  /** A model error (500, 504) in the validation shape. */
  modelError: FAL_ERROR_SHAPES["model-error-500"].body satisfies ErrorBody,
  /** A billable call on a locked account (403). */
  accountLocked: FAL_ERROR_SHAPES["account-locked"].body satisfies FlatError,
  /** The body of a 504 for the caller's own start timeout (`x-fal-request-timeout-type: user`). */
  userTimeout: FAL_ERROR_SHAPES["user-timeout-504"].body satisfies FlatError,
  /** Too many requests: the queue is longer than `fal_max_queue_length` (the mock's wording). */
  queueFull: {
    detail: "The queue is full: 2 requests are waiting (fal_max_queue_length=2)",
    error_type: "queue_full",
  } satisfies FlatError,
} as const;

/**
 * Every error answer fal sends, whole: status, body and headers (`X-Fal-Retryable` on model errors,
 * `x-fal-request-timeout-type: user` on a user timeout), by name.
 */
export const errorResponses = FAL_ERROR_SHAPES;

/** Answers of the cancel operation, with their HTTP status. */
export const cancelResponses = {
  requested: { status: 202, body: { status: "CANCELLATION_REQUESTED" } satisfies CancelResponse },
  alreadyCompleted: { status: 400, body: { status: "ALREADY_COMPLETED" } satisfies CancelResponse },
  /** An unknown id: fal's flat 404, as on status and result (what the mock answers). */
  notFound: { status: 404, body: { detail: "Request not found" } satisfies FlatError },
  /** An unknown id in the cancel body's own shape, which the spec also accepts. */
  notFoundStatusBody: { status: 404, body: { status: "NOT_FOUND" } satisfies CancelResponse },
} as const;

/** What fal POSTs to a `fal_webhook` URL. */
export const webhookPayloads = {
  ok: {
    request_id: REQUEST_ID,
    gateway_request_id: REQUEST_ID,
    status: "OK",
    payload: outputs.textToImage,
  } satisfies WebhookPayload,
  validationError: {
    request_id: REQUEST_ID,
    gateway_request_id: REQUEST_ID,
    status: "ERROR",
    error: "Invalid status code: 422",
    payload: { detail: [{ loc: ["body", "image_url"], msg: "Could not download the image", type: "image_load_error" }] },
  } satisfies WebhookPayload,
  serverError: {
    request_id: REQUEST_ID,
    gateway_request_id: REQUEST_ID,
    status: "ERROR",
    error: "Invalid status code: 500",
    payload: errors.internal,
  } satisfies WebhookPayload,
  /** fal may send `error: null` on a successful delivery. */
  okWithNullError: {
    request_id: REQUEST_ID,
    gateway_request_id: REQUEST_ID,
    status: "OK",
    error: null,
    payload: outputs.textToImage,
  } satisfies WebhookPayload,
  unserialisable: {
    request_id: REQUEST_ID,
    gateway_request_id: REQUEST_ID,
    status: "OK",
    payload: null,
    payload_error: "Response payload is not JSON serializable",
  } satisfies WebhookPayload,
} as const;

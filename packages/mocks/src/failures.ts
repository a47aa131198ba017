/**
 * The ways a job fails, each as the error its result serves (and its status and webhook report):
 * input the model refused, a `fail-at-result` fault, a cancellation, a start timeout.
 */
import type { EndpointId, ValidationIssue } from "@kontext-sdk/schema";
import { endpoints } from "@kontext-sdk/schema";
import { FAL_HEADERS } from "@kontext-sdk/schema/protocol";
import { FAL_ERROR_SHAPES } from "./error-shapes.js";
import type { Fault } from "./faults.js";
import type { JobFailure } from "./job.js";
import { defaultErrorBody } from "./responses.js";
import { toHttpValidationError } from "./validation.js";

const invalidStatus = (status: number) => `Invalid status code: ${status}`;

/**
 * Input the model refused. fal accepts any JSON at submit; the model validates it, the job ends
 * COMPLETED with the error on its status, and the result answers 422 with the field errors.
 */
export function invalidInput(issues: readonly ValidationIssue[]): JobFailure {
  return {
    status: 422,
    body: toHttpValidationError(issues),
    errorType: "validation_error",
    error: invalidStatus(422),
    headers: { [FAL_HEADERS.retryable]: "false" },
    stoppedEarly: true,
  };
}

/** A `fail-at-result` fault: fal's answer by `shape`, a 500, or a 422 naming the endpoint's image (or prompt) field. */
export function faultAtResult(fault: Extract<Fault, { kind: "fail-at-result" }>, endpoint: EndpointId): JobFailure {
  const shape = fault.shape ? FAL_ERROR_SHAPES[fault.shape] : undefined;
  const status = fault.status ?? shape?.status ?? 422;
  const body = fault.body ?? shape?.body ?? (status === 422 ? modelRefusal(endpoint) : defaultErrorBody(status));
  const bodyType = (body as { error_type?: unknown } | null)?.error_type;
  const errorType =
    typeof bodyType === "string"
      ? bodyType
      : status === 422
        ? "validation_error"
        : (defaultErrorBody(status).error_type ?? "internal_error");
  return { status, body, errorType, error: invalidStatus(status), ...(shape ? { headers: { ...shape.headers } } : {}) };
}

function modelRefusal(endpoint: EndpointId) {
  const kind = endpoints[endpoint].kind;
  const field = kind === "text-to-image" ? "prompt" : kind === "edit" ? "image_url" : "image_urls";
  return { detail: [{ loc: ["body", field], msg: "The model could not process this input", type: "value_error" }] };
}

/** A running job told to stop: its result is a 400 `client_cancelled`. */
export function cancelled(): JobFailure {
  return {
    status: 400,
    body: { detail: "Request was cancelled", error_type: "client_cancelled" },
    errorType: "client_cancelled",
    error: "Request was cancelled",
    stoppedEarly: true,
  };
}

/** fal's start timeout: still queued after `x-fal-request-timeout` seconds → a 504 never to retry. */
export function startTimeout(): JobFailure {
  return {
    status: 504,
    body: { detail: "Request timed out", error_type: "request_timeout" },
    errorType: "request_timeout",
    error: "Request timed out",
    headers: { [FAL_HEADERS.requestTimeoutType]: "user" },
    stoppedEarly: true,
  };
}

import {
  type EndpointId,
  type FlatError,
  formatIssues,
  type HTTPValidationError,
  type OutputOf,
  type ValidationIssue,
  validateSchema,
  type WebhookPayload,
} from "@kontext-sdk/schema";
import { KontextError } from "@kontext-sdk/schema/protocol";

/** A delivery for a job that succeeded: `payload` is the endpoint's output. */
export interface WebhookSuccess<E extends EndpointId = EndpointId> {
  ok: true;
  requestId: string;
  /** Differs from `requestId` only when fal retried the request. */
  gatewayRequestId: string | undefined;
  payload: OutputOf<E>;
  raw: WebhookPayload;
}

/** A delivery for a job that failed. */
export interface WebhookFailure {
  ok: false;
  requestId: string;
  gatewayRequestId: string | undefined;
  /** fal's summary, e.g. `Invalid status code: 422`. */
  error: string;
  /**
   * The error body: most often a 422 `{detail:[{loc,msg,type}]}` or a flat `{detail, error_type}`,
   * but whatever the model answered is kept; null when it was not JSON-serialisable.
   */
  payload: HTTPValidationError | FlatError | Record<string, unknown> | null | undefined;
  /** Why `payload` is null, when it is. */
  payloadError: string | undefined;
  raw: WebhookPayload;
}

export type ParsedWebhook<E extends EndpointId = EndpointId> = WebhookSuccess<E> | WebhookFailure;

export interface ParseWebhookOptions<E extends EndpointId = EndpointId> {
  /** The endpoint the job was submitted to; types `payload`. All six share one output schema. */
  endpoint?: E;
}

/** Thrown when a body is not a fal webhook payload at all; `issues` says what is wrong with it. */
export class WebhookPayloadError extends KontextError {
  override readonly name = "WebhookPayloadError";
  readonly issues: ValidationIssue[];
  constructor(message: string, issues: ValidationIssue[] = []) {
    super(message);
    this.issues = issues;
  }
}

/**
 * Reads fal's webhook body (the raw text, its bytes, or an already-parsed value), checks it against
 * the spec's `WebhookPayload` and splits it into success or failure. A success whose payload is not
 * a Kontext output throws: the job's output is what the caller is about to store.
 * Verify the signature first (`verifyWebhook`) when the body comes from the network.
 */
export function parseWebhook<E extends EndpointId = EndpointId>(
  body: string | Uint8Array | ArrayBuffer | unknown,
  options: ParseWebhookOptions<E> = {},
): ParsedWebhook<E> {
  void options.endpoint;
  let value: unknown = body;
  if (typeof body === "string" || body instanceof Uint8Array || body instanceof ArrayBuffer) {
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    try {
      value = JSON.parse(text);
    } catch {
      throw new WebhookPayloadError("webhook body is not valid JSON");
    }
  }
  const raw = checkEnvelope(value);
  const common = { requestId: raw.request_id, gatewayRequestId: raw.gateway_request_id };
  if (raw.status === "OK") {
    const output = validateSchema<OutputOf<E>>("KontextOutput", raw.payload);
    if (!output.ok) {
      throw new WebhookPayloadError(
        `webhook reports OK but its payload is not a Kontext output: ${formatIssues(output.issues)}`,
        output.issues,
      );
    }
    return { ok: true, ...common, payload: output.value, raw };
  }
  return {
    ok: false,
    ...common,
    error: raw.error ?? "unknown error",
    payload: raw.payload as WebhookFailure["payload"],
    payloadError: raw.payload_error,
    raw,
  };
}

function checkEnvelope(value: unknown): WebhookPayload {
  const checked = validateSchema<WebhookPayload>("WebhookPayload", value);
  if (checked.ok) return checked.value;
  // A failed job's error body is whatever the model's server answered; refusing the delivery over
  // its shape would only make fal retry it. The envelope around it must still be right.
  const record = value as Record<string, unknown> | null;
  if (record && typeof record === "object" && record.status === "ERROR" && typeof record.payload === "object") {
    const envelope = validateSchema<WebhookPayload>("WebhookPayload", { ...record, payload: null });
    if (envelope.ok) return record as unknown as WebhookPayload;
  }
  throw new WebhookPayloadError(`not a fal webhook payload: ${formatIssues(checked.issues)}`, checked.issues);
}

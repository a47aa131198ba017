/**
 * @kontext-sdk/schema — everything read from the curated OpenAPI spec (spec/openapi.yaml):
 * the generated types, named aliases for them, the endpoint registry, constants and the
 * validators compiled at build time. It imports nothing at run time.
 */
import type { components, paths } from "./generated/queue.js";
import { endpoints } from "./generated/registry.js";
import type { components as storageComponents } from "./generated/storage.js";
import type { paths as syncPaths } from "./generated/sync.js";

// Generated types (openapi-typescript), for openapi-fetch and anyone who wants the raw shapes.
export type { components, operations, paths, webhooks } from "./generated/queue.js";
// The registry and constants, read from the spec.
export {
  ASPECT_RATIOS,
  CANCEL_STATUSES,
  endpoints,
  INPUT_DEFAULTS,
  INPUT_LIMITS,
  INPUT_RANGES,
  OUTPUT_FORMATS,
  QUEUE_BASE_URL,
  QUEUE_STATUSES,
  REQUEST_ERROR_TYPES,
  SAFETY_TOLERANCES,
  STORAGE_BASE_URL,
  STORAGE_UPLOAD,
  SYNC_BASE_URL,
} from "./generated/registry.js";
// fal's storage upload flow (spec/storage.yaml): initiate on the REST host, then PUT to the signed URL.
export type { operations as storageOperations, paths as storagePaths } from "./generated/storage.js";
export type { operations as syncOperations, paths as syncPaths } from "./generated/sync.js";

// Validators compiled from the spec (Ajv standalone), and the helpers that read their errors.
export * from "./generated/validators.js";
export {
  formatIssues,
  preview,
  runValidator,
  type ValidatedSchemaName,
  type ValidationIssue,
  type ValidationResult,
  validateInput,
  validateSchema,
} from "./validate.js";
export type { CompiledValidator, CompiledValidatorError } from "./validator-types.js";

type Schemas = components["schemas"];

export type TextToImageInput = Schemas["TextToImageInput"];
export type EditInput = Schemas["EditInput"];
export type MultiEditInput = Schemas["MultiEditInput"];
export type KontextInputBase = Schemas["KontextInputBase"];
export type KontextOutput = Schemas["KontextOutput"];
export type KontextImage = Schemas["Image"];
export type AspectRatio = Schemas["AspectRatio"];
export type OutputFormat = Schemas["OutputFormat"];
export type SafetyTolerance = Schemas["SafetyTolerance"];
export type ImageSource = Schemas["ImageSource"];
export type QueueStatus = Schemas["QueueStatus"];
export type InQueueStatus = Schemas["InQueueStatus"];
export type InProgressStatus = Schemas["InProgressStatus"];
export type CompletedStatus = Schemas["CompletedStatus"];
export type SubmitResponse = Schemas["SubmitResponse"];
export type CancelResponse = Schemas["CancelResponse"];
/** A refused cancel: a cancel body or fal's error body. */
export type CancelRefusal = Schemas["CancelRefusal"];
export type LogEntry = Schemas["LogEntry"];
export type QueueMetrics = Schemas["QueueMetrics"];
export type HTTPValidationError = Schemas["HTTPValidationError"];
export type ValidationErrorItem = Schemas["ValidationErrorItem"];
export type FlatError = Schemas["FlatError"];
/** Any error body fal sends: the validation shape (`detail` array) or the flat shape (`detail` string). */
export type ErrorBody = Schemas["ErrorBody"];
/** The `error_type` values fal documents. */
export type RequestErrorType = Schemas["RequestErrorType"];
export type ObjectLifecyclePreference = Schemas["ObjectLifecyclePreference"];
export type WebhookPayload = Schemas["WebhookPayload"];

type StorageSchemas = storageComponents["schemas"];

export type InitiateUploadRequest = StorageSchemas["InitiateUploadRequest"];
export type InitiateUploadResponse = StorageSchemas["InitiateUploadResponse"];
export type UploadedPart = StorageSchemas["UploadedPart"];
export type CompleteMultipartRequest = StorageSchemas["CompleteMultipartRequest"];

/** The id of a Kontext endpoint, e.g. `"fal-ai/flux-pro/kontext/max"`. */
export type EndpointId = keyof typeof endpoints;
/** One entry of the registry. */
export type EndpointInfo<E extends EndpointId = EndpointId> = (typeof endpoints)[E];
/** `"text-to-image" | "edit" | "multi"`. */
export type EndpointKind = EndpointInfo["kind"];
/** `"pro" | "max"`. */
export type EndpointTier = EndpointInfo["tier"];

/** The input an endpoint accepts, read from its submit operation's request body. */
export type InputOf<E extends EndpointId> = NonNullable<paths[`/${E}`]["post"]["requestBody"]>["content"]["application/json"];
/** The output an endpoint produces, read from its synchronous operation's 200 answer. */
export type OutputOf<E extends EndpointId> = syncPaths[`/${E}`]["post"]["responses"][200]["content"]["application/json"];

/** True when `id` is one of the spec's Kontext endpoints. */
export function isEndpointId(id: unknown): id is EndpointId {
  return typeof id === "string" && Object.hasOwn(endpoints, id);
}

/**
 * @kontext-sdk/mocks — a fal-compatible queue simulator for the FLUX.1 Kontext endpoints.
 *
 * This entry is runtime-neutral (browsers, workers, Node): the simulator as a web-standard
 * `(Request) => Promise<Response>` handler plus `mock.fetch`. Adapters live in subpaths:
 * `@kontext-sdk/mocks/msw` (MSW 2 handlers), `@kontext-sdk/mocks/server` (node:http) and
 * `@kontext-sdk/mocks/fixtures` (static, spec-checked examples).
 *
 * Contents, in import order:
 * - clock: `createManualClock` for tests, `realClock` otherwise;
 * - error-shapes: every error body shape fal sends, by name (fault rules pick them with `shape`);
 * - errors: `KontextMockError`, thrown for bad options (a `KontextError`);
 * - faults: the fault rule shapes and the per-request fault header;
 * - images: the PNG/JPEG encoders and the deterministic picture the mock serves;
 * - mock: `createKontextMock`, its options and introspection types (it wires job-store, timeline,
 *   router, operations/*, fault-responses, webhook-delivery and request-log together);
 * - outputs: how a seed is drawn from a prompt;
 * - storage: fal's upload flow (initiate, signed PUTs, parts, served files, lifecycle expiry);
 * - timeline: how a job moves through the queue;
 * - webhook-signer: fal's Ed25519 webhook signatures, and the JWKS a receiver verifies them with.
 */

export { type CancelTimer, createManualClock, type ManualClock, type MockClock, realClock } from "./clock.js";
export { FAL_ERROR_SHAPES, type FalErrorShape, type FalErrorShapeName } from "./error-shapes.js";
export { KontextMockError } from "./errors.js";
export {
  FAULT_HEADER,
  type Fault,
  type FaultKind,
  type FaultMatch,
  type FaultRule,
  type MockOperation,
  OPERATIONS,
} from "./faults.js";
export { encodeJpeg } from "./images/jpeg.js";
export { dimensionsFor, type ImageFormat, renderImage } from "./images/picture.js";
export { encodePng } from "./images/png.js";
export {
  createKontextMock,
  FAL_RESULT_RETENTION,
  isConnectionReset,
  type JobFailure,
  type JobState,
  type KontextMock,
  type KontextMockOptions,
  type MockHandler,
  type MockJob,
  type RecordedRequest,
  type RouteContext,
  type ValidateAt,
  type WebhookDelivery,
} from "./mock.js";
export { seedFromPrompt } from "./outputs.js";
export {
  DEFAULT_FILE_TTL_MS,
  DEFAULT_MAX_UPLOAD_BYTES,
  type StorageOptions,
  type StoredFile,
} from "./storage.js";
export { DEFAULT_TIMELINE, type Timeline } from "./timeline.js";
export {
  createWebhookSigner,
  type MockWebhookJwks,
  type WebhookSigner,
  type WebhookSigningOptions,
} from "./webhook-signer.js";

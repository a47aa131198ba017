/**
 * @kontext-sdk/mocks — a fal-compatible queue simulator for the FLUX.1 Kontext endpoints.
 *
 * This entry is runtime-neutral (browsers, workers, Node): the simulator as a web-standard
 * `(Request) => Promise<Response>` handler plus `mock.fetch`. Adapters live in subpaths:
 * `@kontext-sdk/mocks/msw` (MSW 2 handlers), `@kontext-sdk/mocks/server` (node:http) and
 * `@kontext-sdk/mocks/fixtures` (static, spec-checked examples).
 */

// Time: a manual clock for tests, real time otherwise.
export { type CancelTimer, createManualClock, type ManualClock, type MockClock, realClock } from "./clock.js";
// Fault injection.
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
// The generated pictures, for anyone who wants the same bytes the mock serves.
export { dimensionsFor, type ImageFormat, renderImage } from "./images/picture.js";
export { encodePng } from "./images/png.js";
// The simulator and its introspection types.
export {
  createKontextMock,
  isConnectionReset,
  type JobFailure,
  type JobState,
  type KontextMock,
  type KontextMockOptions,
  type MockHandler,
  type MockJob,
  type RecordedRequest,
  type RouteContext,
  type WebhookDelivery,
} from "./mock.js";
export { seedFromPrompt } from "./outputs.js";
// How a job moves through the queue.
export { DEFAULT_TIMELINE, type Timeline } from "./timeline.js";

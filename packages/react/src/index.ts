/**
 * @kontext-sdk/react — TanStack Query hooks over @kontext-sdk/client. The client owns the queue lifecycle
 * (submit, stream or poll, result, retries); these hooks only adapt it to React and the query cache.
 */

export { type KontextStatus, mergeLogs } from "./progress.js";
// Where the hooks get their client.
export { KontextProvider, type KontextProviderProps, useKontextClient } from "./provider.js";
// The primitives: query keys and query options, for prefetching, server rendering and invalidation.
export { kontextQueryKeys } from "./query-keys.js";
export { type KontextStatusQueryConfig, kontextQueryOptions, kontextStatusQueryOptions } from "./query-options.js";
// Generate: submit → progress → result, with cancel.
export { type UseKontextOptions, type UseKontextResult, useKontext } from "./use-kontext.js";
// Resume a known request id: status until done, then the result.
export {
  type KontextRequestStatus,
  type UseKontextRequestOptions,
  type UseKontextRequestResult,
  useKontextRequest,
} from "./use-kontext-request.js";

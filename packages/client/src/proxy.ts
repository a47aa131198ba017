/**
 * @kontext-sdk/client/proxy — a server-side handler that lets browser code use the Kontext
 * endpoints without ever holding the key, forwarding only what the spec allows.
 * Guide: docs/proxy-and-webhooks.md.
 */
export type { AllowedHosts } from "./proxy/allowed-hosts.js";
export {
  type AuthorizeRequest,
  isSameOriginRequest,
  type SameOriginOptions,
  type SameOriginRefusal,
  sameOrigin,
  sameOriginRefusal,
} from "./proxy/authorize.js";
export { KontextProxyConfigError, KontextProxyReportedError } from "./proxy/config.js";
export { createKontextProxy } from "./proxy/create-proxy.js";
export { type NodeHandler, type NodeHandlerOptions, toNodeHandler } from "./proxy/node-adapter.js";
export type { Operation as ProxyOperation } from "./proxy/operations.js";
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_INITIATE_BYTES,
  DEFAULT_RUN_TIMEOUT_MS,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  type KontextProxyHandler,
  type KontextProxyOptions,
  type ProxyStorageOptions,
  type ProxyTarget,
  TARGET_URL_HEADER,
} from "./proxy/options.js";
export type { ProxyRefusalReason } from "./proxy/refusal.js";
export { type RouteHandlers, toRouteHandlers } from "./proxy/route-handlers.js";

/**
 * @kontext-sdk/client/proxy — a server-side handler that lets browser code use the Kontext
 * endpoints without ever holding the key, forwarding only what the spec allows.
 * Guide: docs/proxy-and-webhooks.md.
 */
export { type AuthorizeRequest, isSameOriginRequest, type SameOriginOptions, sameOrigin } from "./proxy/authorize.js";
export {
  createKontextProxy,
  DEFAULT_MAX_BODY_BYTES,
  type KontextProxyHandler,
  type KontextProxyOptions,
  type ProxyTarget,
  TARGET_URL_HEADER,
} from "./proxy/create-proxy.js";
export { type NodeHandler, type NodeHandlerOptions, toNodeHandler } from "./proxy/node-adapter.js";
export type { Operation as ProxyOperation } from "./proxy/operations.js";
export { type RouteHandlers, toRouteHandlers } from "./proxy/route-handlers.js";

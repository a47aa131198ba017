/**
 * Access policy: who may use the proxy (`authorize`), what they may do (`authorizeOperation`) and where
 * fal may be told to POST results (`fal_webhook`). Each check answers with a refusal or lets the request on.
 */
import { FAL_QUERY } from "@kontext-sdk/schema/protocol";
import type { ProxyConfig } from "./config.js";
import { fail } from "./refusal.js";
import type { Route } from "./routing.js";

/** `authorize`'s verdict: undefined lets the request through, a Response is the answer. */
export async function checkCaller(config: ProxyConfig, request: Request): Promise<Response | undefined> {
  const verdict = await config.authorize(request);
  if (verdict instanceof Response) return verdict;
  if (verdict !== true) return fail(403, "proxy_forbidden", "this request is not allowed to use the proxy");
  return undefined;
}

/** `authorizeOperation`'s verdict, once the operation is known. */
export async function checkOperation(config: ProxyConfig, route: Route, request: Request): Promise<Response | undefined> {
  if (!config.options.authorizeOperation) return undefined;
  const verdict = await config.options.authorizeOperation(route.operation, request);
  if (verdict instanceof Response) return verdict;
  if (verdict !== true) return fail(403, "proxy_forbidden", "this request is not allowed this operation");
  return undefined;
}

/** Sets `fal_webhook` on a submit: the caller's only when the policy allows it, the server's always wins. */
export async function applyWebhookPolicy(config: ProxyConfig, route: Route, request: Request): Promise<Response | undefined> {
  if (route.operation.kind !== "submit") return undefined;
  if (route.webhook !== null) {
    const policy = config.options.allowClientWebhooks ?? false;
    const allowed = typeof policy === "function" ? await policy(route.webhook, request) : policy;
    if (allowed !== true) return fail(403, "proxy_webhook_not_allowed", "fal_webhook may not be set through this proxy");
    route.upstream.searchParams.set(FAL_QUERY.webhook, route.webhook);
  }
  if (config.options.webhookUrl !== undefined) route.upstream.searchParams.set(FAL_QUERY.webhook, config.options.webhookUrl);
  return undefined;
}

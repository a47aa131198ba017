/**
 * Access policy: which host names the proxy answers for (`allowedHosts`), who may use it (`authorize`),
 * what they may do (`authorizeOperation`) and where fal may be told to POST results (`fal_webhook`).
 * Each check answers with a refusal naming its reason, or lets the request on (undefined).
 */
import { FAL_QUERY } from "@kontext-sdk/schema/protocol";
import { hostnameOf, isAllowedHost } from "./allowed-hosts.js";
import { sameOriginRefusal } from "./authorize.js";
import type { ProxyConfig } from "./config.js";
import { refuse } from "./refusal.js";
import type { Route } from "./routing.js";

/** The request's host names, from its URL and its `Host` header (a framework may build the URL from either). */
export function checkHost(config: ProxyConfig, request: Request, requestUrl: URL): Response | undefined {
  const names = [requestUrl.hostname, request.headers.get("host")].filter((name): name is string => !!name).map(hostnameOf);
  const refused = names.find((name) => !isAllowedHost(name, config.allowedHosts));
  if (refused === undefined) return undefined;
  return refuse(
    403,
    "proxy_forbidden",
    "host_not_allowed",
    `this proxy does not answer for the host ${JSON.stringify(refused.slice(0, 100))}: list it in allowedHosts (or set publicUrl)`,
  );
}

/** `authorize`'s verdict (the same-origin rules by default). */
export async function checkCaller(config: ProxyConfig, request: Request): Promise<Response | undefined> {
  const { authorize, publicUrl, allowedOrigins } = config.options;
  if (!authorize) {
    const reason = sameOriginRefusal(request, { publicUrl, allowedOrigins });
    if (!reason) return undefined;
    return refuse(403, "proxy_forbidden", reason, SAME_ORIGIN_DETAIL[reason]);
  }
  const verdict = await authorize(request);
  if (verdict instanceof Response) return verdict;
  if (verdict !== true)
    return refuse(403, "proxy_forbidden", "authorize_refused", "this request is not allowed to use the proxy");
  return undefined;
}

const SAME_ORIGIN_DETAIL = {
  cross_site: "only pages of this site may use the proxy (Sec-Fetch-Site is not same-origin)",
  origin_not_allowed: "only pages of this site may use the proxy (Origin is not an allowed origin)",
  no_browser_headers: "only browser requests from this site may use the proxy (no Origin or Sec-Fetch-Site header)",
} as const;

/** `authorizeOperation`'s verdict, once the operation is known. */
export async function checkOperation(config: ProxyConfig, route: Route, request: Request): Promise<Response | undefined> {
  if (!config.options.authorizeOperation) return undefined;
  const verdict = await config.options.authorizeOperation(route.operation, request);
  if (verdict instanceof Response) return verdict;
  if (verdict !== true) return refuse(403, "proxy_forbidden", "operation_refused", "this request is not allowed this operation");
  return undefined;
}

/** Sets `fal_webhook` on a submit: the caller's only when the policy allows it, the server's always wins. */
export async function applyWebhookPolicy(config: ProxyConfig, route: Route, request: Request): Promise<Response | undefined> {
  if (route.operation.kind !== "submit") return undefined;
  if (route.webhook !== null) {
    const policy = config.options.allowClientWebhooks ?? false;
    const allowed = typeof policy === "function" ? await policy(route.webhook, request) : policy;
    if (allowed !== true) {
      return refuse(403, "proxy_webhook_not_allowed", "client_webhook_refused", "fal_webhook may not be set through this proxy");
    }
    route.upstream.searchParams.set(FAL_QUERY.webhook, route.webhook);
  }
  if (config.options.webhookUrl !== undefined) route.upstream.searchParams.set(FAL_QUERY.webhook, config.options.webhookUrl);
  return undefined;
}

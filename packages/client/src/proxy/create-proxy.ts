/**
 * `createKontextProxy`: the pipeline that ties the proxy's parts together, in the order that keeps the
 * key safe: host check → access policy → routing → operation policy → validation → key → relay. Each step
 * may answer on its own; nothing reaches the secret store or upstream before every check has passed.
 */
import { applyWebhookPolicy, checkCaller, checkHost, checkOperation } from "./access.js";
import { type ProxyConfig, resolveConfig } from "./config.js";
import type { KontextProxyHandler, KontextProxyOptions } from "./options.js";
import { refusalReason, refuse } from "./refusal.js";
import { relayCall } from "./relay.js";
import { resolveRoute } from "./routing.js";
import { resolveServerKey } from "./server-key.js";
import { readInitiate } from "./storage.js";
import { readInput } from "./validation.js";

const METHODS = new Set(["GET", "POST", "PUT"]);

/**
 * Creates a proxy that lets browser code use the Kontext endpoints without holding the key.
 * It forwards only the spec's operations on allowed endpoints, validates submitted inputs,
 * caps body sizes, replaces the caller's `Authorization` with the server's key and forwards
 * only harmless headers. With `storage`, it also starts uploads to fal's storage (the bytes go from the
 * browser to fal's signed URL directly). Works with `@fal-ai/client`'s `proxyUrl` (`x-fal-target-url`) and with
 * direct paths (`{mount}/fal-ai/flux-pro/...`, sync runs at `{mount}/sync/fal-ai/...`).
 */
export function createKontextProxy(options: KontextProxyOptions = {}): KontextProxyHandler {
  const config = resolveConfig(options);
  return async function kontextProxy(request: Request): Promise<Response> {
    // The request's key once resolved: whatever fails after that is reported without it.
    const secrets: string[] = [];
    let answer: Response;
    try {
      answer = await handle(config, request, secrets);
    } catch (error) {
      if (request.signal?.aborted) return new Response(null, { status: 499 });
      config.report(error, request, secrets);
      answer = refuse(500, "proxy_internal_error", "internal_error", "the proxy failed to handle the request");
    }
    const reason = refusalReason(answer);
    if (reason) config.refused(reason, request, { status: answer.status });
    return answer;
  };
}

async function handle(config: ProxyConfig, request: Request, secrets: string[]): Promise<Response> {
  const method = request.method.toUpperCase();
  if (!METHODS.has(method)) {
    return refuse(405, "proxy_operation_not_allowed", "method_not_allowed", `${method} is not an operation of this API`, {
      allow: "GET, POST, PUT",
    });
  }
  const requestUrl = new URL(request.url);
  const refusedCaller = checkHost(config, request, requestUrl) ?? (await checkCaller(config, request));
  if (refusedCaller) return refusedCaller;
  const route = resolveRoute(config, request, requestUrl);
  if (route instanceof Response) return route;
  const refusedOperation = (await checkOperation(config, route, request)) ?? (await applyWebhookPolicy(config, route, request));
  if (refusedOperation) return refusedOperation;

  let body: string | undefined;
  if (route.operation.kind === "submit" || route.operation.kind === "run") {
    const checked = await readInput(request, route.operation.endpoint, config.maxBodyBytes);
    if (checked instanceof Response) return checked;
    body = checked;
  } else if (route.operation.kind === "upload" && config.storage) {
    const checked = await readInitiate(request, config.storage.maxInitiateBytes);
    if (checked instanceof Response) return checked;
    body = checked;
  }

  // Resolved last, so a refused or invalid request never reaches a secret store.
  const credentials = await resolveServerKey(config.options.credentials, request);
  if (!credentials) return refuse(500, "proxy_misconfigured", "no_credentials", "the proxy has no credentials configured");
  secrets.push(credentials);
  const answer = await relayCall(config, request, route, body, credentials);
  if (route.operation.kind === "submit" && answer.ok) await reportSubmitted(config, answer, request, secrets);
  return answer;
}

/** Hands an accepted submit's request id to `onSubmitted`; its failure never hides the answer. */
async function reportSubmitted(
  config: ProxyConfig,
  answer: Response,
  request: Request,
  secrets: readonly string[],
): Promise<void> {
  if (!config.options.onSubmitted) return;
  try {
    const { request_id } = (await answer.clone().json()) as { request_id?: unknown };
    if (typeof request_id === "string") await config.options.onSubmitted(request_id, request);
  } catch (error) {
    config.report(error, request, secrets);
  }
}

/** The key the proxy sends upstream: an option, a per-request function, or fal's environment variables. */
import { falKeyFromEnv } from "@kontext-sdk/schema/protocol";
import type { KontextProxyOptions } from "./options.js";

export async function resolveServerKey(
  option: KontextProxyOptions["credentials"],
  request: Request,
): Promise<string | undefined> {
  if (typeof option === "function") return (await option(request)) || undefined;
  return fixedServerKey(option);
}

/**
 * The key when it does not depend on the request (a string option or fal's environment variables), else
 * undefined: what `onError`'s redaction knows even before a request's key has been resolved.
 */
export function fixedServerKey(option: KontextProxyOptions["credentials"]): string | undefined {
  if (typeof option === "function") return undefined;
  if (typeof option === "string") return option || undefined;
  // An environment the runtime will not let us read (Deno without --allow-env) is no key: the proxy then
  // answers its documented `proxy_misconfigured`, not a foreign error.
  const fromEnv = falKeyFromEnv();
  return fromEnv && "key" in fromEnv ? fromEnv.key : undefined;
}

/** The key the proxy sends upstream: an option, a per-request function, or fal's environment variables. */
import type { KontextProxyOptions } from "./options.js";

export async function resolveServerKey(
  option: KontextProxyOptions["credentials"],
  request: Request,
): Promise<string | undefined> {
  if (typeof option === "function") return (await option(request)) || undefined;
  if (typeof option === "string") return option || undefined;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (!env) return undefined;
  if (env.FAL_KEY) return env.FAL_KEY;
  if (env.FAL_KEY_ID && env.FAL_KEY_SECRET) return `${env.FAL_KEY_ID}:${env.FAL_KEY_SECRET}`;
  return undefined;
}

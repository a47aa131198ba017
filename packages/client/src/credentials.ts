/** A key (`FAL_KEY`, `id:secret`, or a gateway token), or a function that fetches one when needed. */
export type Credentials = string | (() => string | undefined | Promise<string | undefined>);

/** The same test fal-js and most SDKs use: a DOM is present. Workers, Deno and Node have no `document`. */
export const isBrowser = () => typeof window !== "undefined" && typeof document !== "undefined";

/**
 * Node-style default credentials, read through `globalThis` so this module imports nothing Node-only and
 * bundles cleanly for browsers and workers: `FAL_KEY`, else `FAL_KEY_ID:FAL_KEY_SECRET`.
 */
export function envCredentials(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (!env) return undefined;
  return env.FAL_KEY || (env.FAL_KEY_ID && env.FAL_KEY_SECRET ? `${env.FAL_KEY_ID}:${env.FAL_KEY_SECRET}` : undefined);
}

export async function resolveCredentials(credentials: Credentials | undefined): Promise<string | undefined> {
  return typeof credentials === "function" ? await credentials() : credentials;
}

/**
 * fal's key from the environment, as fal-js reads it: `FAL_KEY`, else `FAL_KEY_ID:FAL_KEY_SECRET`. Read
 * through `globalThis.process` so nothing Node-only is imported (browsers and workers have no `process`).
 * Deno without `--allow-env` throws its own `NotCapable` error on the read: that comes back as `refused`,
 * so callers can answer with their own error instead of leaking a foreign one.
 */

/** Where a key came from, as error messages name it (never the value). */
export type EnvKeySource = "FAL_KEY" | "FAL_KEY_ID/FAL_KEY_SECRET";

export type EnvKey = { key: string; source: EnvKeySource } | { refused: string } | undefined;

export function falKeyFromEnv(): EnvKey {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    if (env?.FAL_KEY) return { key: env.FAL_KEY, source: "FAL_KEY" };
    if (env?.FAL_KEY_ID && env.FAL_KEY_SECRET) {
      return { key: `${env.FAL_KEY_ID}:${env.FAL_KEY_SECRET}`, source: "FAL_KEY_ID/FAL_KEY_SECRET" };
    }
    return undefined;
  } catch (error) {
    return { refused: error instanceof Error ? error.message : String(error) };
  }
}

import { falKeyFromEnv } from "@kontext-sdk/schema/protocol";
import { KontextError } from "./errors.js";

/** A key (`FAL_KEY`, `id:secret`, or a gateway token), or a function that fetches one when needed. */
export type Credentials = string | (() => string | undefined | Promise<string | undefined>);

/** The same test fal-js and most SDKs use: a DOM is present. Workers, Deno and Node have no `document`. */
export const isBrowser = () => typeof window !== "undefined" && typeof document !== "undefined";

/** Where a key came from, as error messages name it (never the value). */
type KeySource = "FAL_KEY" | "FAL_KEY_ID/FAL_KEY_SECRET" | "credentials" | "the credentials function";

/**
 * The default credentials, `FAL_KEY` else `FAL_KEY_ID:FAL_KEY_SECRET` (the protocol core reads them through
 * `globalThis`, so nothing Node-only is imported). A runtime that refuses the read (Deno without
 * `--allow-env`) gets a KontextError saying how to allow it, not the runtime's own error.
 */
function envKey(): { key: string; source: KeySource } | undefined {
  const found = falKeyFromEnv();
  if (found && "refused" in found) {
    throw new KontextError(
      "Reading FAL_KEY from the environment was refused (on Deno: --allow-env=FAL_KEY,FAL_KEY_ID,FAL_KEY_SECRET); allow it or pass credentials",
    );
  }
  return found;
}

/**
 * A key goes into the `Authorization` header as is: a line break would split the header (fetch refuses it,
 * quoting the whole value in its message), and anything outside printable ASCII is not a valid header
 * value either. Checked once, where the key enters, with a message that names its source, never its value.
 */
export function checkKey(key: string, source: KeySource): string {
  const problem = !key.trim()
    ? "is empty"
    : /[\r\n]/.test(key)
      ? "contains a line break (CR/LF)"
      : // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
        /[\u0000-\u001f\u007f]/.test(key)
        ? "contains a control character (NUL, tab, escape…)"
        : /[^\u0020-\u007e]/.test(key)
          ? "contains a character outside printable ASCII"
          : undefined;
  if (problem) throw new KontextError(`The key from ${source} ${problem}: it cannot be sent in an Authorization header`);
  return key;
}

/**
 * The key to attach to each call. A key string and the environment's key are checked when the client is
 * created (so a bad `FAL_KEY` fails at start-up, not on the first call); the environment is still read per
 * call (a key loaded after the client was made is picked up), and a function's answer is checked each time
 * it is resolved. `undefined` attaches nothing.
 */
export function keyResolver(
  credentials: Credentials | undefined,
  useEnv: boolean,
): () => string | undefined | Promise<string | undefined> {
  if (typeof credentials === "string") {
    const key = checkKey(credentials, "credentials");
    return () => key;
  }
  if (typeof credentials === "function") {
    return async () => {
      const key = await credentials();
      return key === undefined ? undefined : checkKey(key, "the credentials function");
    };
  }
  if (!useEnv) return () => undefined;
  const atStart = envKey();
  if (atStart) checkKey(atStart.key, atStart.source);
  return () => {
    const found = envKey();
    return found && checkKey(found.key, found.source);
  };
}

/**
 * The base of every error a kontext-sdk package throws on purpose, so `instanceof KontextError` catches
 * them all, whichever package threw. It lives in the protocol core because the mocks and the contract kit,
 * which must not import the client, throw their own subclasses too.
 */
export class KontextError extends Error {
  override name = "KontextError";

  /**
   * What `JSON.stringify` writes: the name, the message and the error's own fields (subclasses redact
   * those before storing them), so a logged error carries no more than its message says.
   */
  toJSON(): Record<string, unknown> {
    const fields: Record<string, unknown> = { name: this.name, message: this.message };
    for (const [key, value] of Object.entries(this)) if (key !== "name" && key !== "cause") fields[key] = value;
    return fields;
  }
}

/** True for any error a kontext-sdk package threw on purpose. */
export const isKontextError = (error: unknown): error is KontextError => error instanceof KontextError;

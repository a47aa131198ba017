/**
 * Reading untrusted JSON: `JSON.parse` of `[[[[…]]]]` nested a few hundred thousand levels deep throws a
 * RangeError (stack overflow) inside the parser, which servers then answer with a 500. A linear pre-scan
 * of the nesting depth (brackets outside strings) turns that into a clear 4xx before parsing.
 */

/** The deepest nesting of objects and arrays in a JSON text, stopping early once `limit` is passed. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c)
        index++; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}

/** Why a JSON text was not read. */
export type JsonReadFailure = { reason: "too_deep"; depth: number; limit: number } | { reason: "invalid"; message: string };

/** Parses JSON no deeper than `maxDepth`, as a result value (servers turn the failure into a 4xx). */
export function parseJsonBounded(
  text: string,
  maxDepth: number,
): { ok: true; value: unknown } | ({ ok: false } & JsonReadFailure) {
  const depth = jsonDepth(text, maxDepth);
  if (depth > maxDepth) return { ok: false, reason: "too_deep", depth, limit: maxDepth };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: "invalid", message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Parsing a request body the way the proxy does, so both answer the same bad input the same way: the text
 * comes from the core's `readBodyText` (413 past the cap, 422 for bytes that are not UTF-8), and JSON is
 * parsed no deeper than the spec's nesting bound (core `parseJsonBounded`; too deep or broken → core
 * `unreadableBodyResponse`, a 422 at `loc: ["body"]`).
 */
import { INPUT_LIMITS } from "@kontext-sdk/schema";
import { type JsonReadFailure, parseJsonBounded } from "@kontext-sdk/schema/protocol";

/** The nesting depth the spec allows (INPUT_LIMITS.maxJsonDepth). */
const MAX_JSON_DEPTH = INPUT_LIMITS.maxJsonDepth;
/** The body size the spec allows, in bytes (INPUT_LIMITS.maxBodyBytes); the mock's default cap. */
export const MAX_BODY_BYTES = INPUT_LIMITS.maxBodyBytes;

/** A body read as JSON: the value, or why not. No body (or only whitespace) reads as `{ ok: true, value: undefined }`. */
export type ParsedBody = { ok: true; value: unknown } | ({ ok: false } & JsonReadFailure);

export function parseBody(text: string): ParsedBody {
  if (text.trim() === "") return { ok: true, value: undefined };
  return parseJsonBounded(text, MAX_JSON_DEPTH);
}

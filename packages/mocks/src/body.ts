/**
 * Reading a request body the way the proxy does, so both answer the same bad input the same way: at most
 * `maxBytes` are read (a declared or streamed oversize body is refused with 413 without reading the rest),
 * the text must be UTF-8, and JSON is parsed no deeper than the spec's nesting bound (core
 * `parseJsonBounded`; too deep or broken → core `unreadableBodyResponse`, a 422 at `loc: ["body"]`).
 */
import { INPUT_LIMITS } from "@kontext-sdk/schema";
import {
  bodyTooLargeResponse,
  type JsonReadFailure,
  parseJsonBounded,
  readCapped,
  unreadableBodyResponse,
} from "@kontext-sdk/schema/protocol";

/** The nesting depth the spec allows (INPUT_LIMITS.maxJsonDepth). */
const MAX_JSON_DEPTH = INPUT_LIMITS.maxJsonDepth;
/** The body size the spec allows, in bytes (INPUT_LIMITS.maxBodyBytes); the mock's default cap. */
export const MAX_BODY_BYTES = INPUT_LIMITS.maxBodyBytes;

export type BodyRead = { ok: true; text: string } | { ok: false; response: Response; bytes: number };

/** The body as text, or the answer refusing it (413 over `maxBytes`, 422 for bytes that are not UTF-8). */
export async function readBodyText(request: Request, maxBytes: number): Promise<BodyRead> {
  const read = await readCapped(request.body, maxBytes, request.headers.get("content-length"));
  if (!read.ok) return { ok: false, response: bodyTooLargeResponse(maxBytes), bytes: read.seenBytes };
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(read.bytes) };
  } catch {
    const failure: JsonReadFailure = { reason: "invalid", message: "the request body is not valid UTF-8" };
    return { ok: false, response: unreadableBodyResponse(failure), bytes: read.bytes.byteLength };
  }
}

/** A body read as JSON: the value, or why not. No body (or only whitespace) reads as `{ ok: true, value: undefined }`. */
export type ParsedBody = { ok: true; value: unknown } | ({ ok: false } & JsonReadFailure);

export function parseBody(text: string): ParsedBody {
  if (text.trim() === "") return { ok: true, value: undefined };
  return parseJsonBounded(text, MAX_JSON_DEPTH);
}

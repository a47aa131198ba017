/**
 * Reading a body with a byte ceiling. `Content-Length` is only a shortcut for refusing early: it can be
 * absent (chunked) or wrong, so the bytes are counted as they stream in, and the stream is cancelled the
 * moment they pass the cap. Servers (proxy, mock, webhook receivers) and the client read through it, so a
 * hostile peer can never make any of them buffer more than the cap.
 */
import { bodyTooLargeResponse, unreadableBodyResponse } from "./error-body.js";

/** The bytes, or how many were seen (declared or read) when the cap was passed. */
export type CappedRead = { ok: true; bytes: Uint8Array } | { ok: false; seenBytes: number };

export async function readCapped(
  body: ReadableStream<Uint8Array> | null | undefined,
  maxBytes: number,
  declaredLength?: string | null,
): Promise<CappedRead> {
  const declared = declaredLength != null && /^\d+$/.test(declaredLength) ? Number(declaredLength) : undefined;
  if (declared !== undefined && declared > maxBytes) {
    await body?.cancel().catch(() => {});
    return { ok: false, seenBytes: declared };
  }
  if (!body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Dropped before the cancel settles, so what was read can be collected while it does.
      chunks.length = 0;
      await reader.cancel().catch(() => {});
      return { ok: false, seenBytes: total };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0]! };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/**
 * A request body read whole as UTF-8 text through the cap, or the answer that refuses it: 413 past the cap,
 * 422 at `loc: ["body"]` for bytes that are not UTF-8 (`bytes`: how many were seen). The mock and the proxy
 * both read JSON bodies through it, so the same bad bytes get the same answer from either.
 */
export type BodyTextRead =
  | { ok: true; text: string }
  | { ok: false; refusal: "too_large" | "not_utf8"; response: Response; bytes: number };

export async function readBodyText(request: Request, maxBytes: number): Promise<BodyTextRead> {
  const read = await readCapped(request.body, maxBytes, request.headers.get("content-length"));
  if (!read.ok) return { ok: false, refusal: "too_large", response: bodyTooLargeResponse(maxBytes), bytes: read.seenBytes };
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(read.bytes) };
  } catch {
    const response = unreadableBodyResponse({ reason: "invalid", message: "the request body is not valid UTF-8" });
    return { ok: false, refusal: "not_utf8", response, bytes: read.bytes.byteLength };
  }
}

/** Reading a request body with a byte ceiling, counted as it streams in. */

export type LimitedBody = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too-large" };

/**
 * Reads the whole body but gives up as soon as it passes `maxBytes`. `Content-Length` is only a
 * shortcut for refusing early: it can be absent (chunked) or wrong, so the bytes are counted too.
 */
export async function readLimited(request: Request, maxBytes: number): Promise<LimitedBody> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    return { ok: false, reason: "too-large" };
  }
  if (!request.body) return { ok: true, bytes: new Uint8Array(0) };
  const { chunks, over } = await readChunks(request.body, maxBytes);
  if (over) return { ok: false, reason: "too-large" };
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/** Reads a response body as text, cut at `maxBytes` (error bodies are small; a huge one is not worth holding). */
export async function readTextCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const decoder = new TextDecoder();
  let text = "";
  for (const chunk of (await readChunks(body, maxBytes)).chunks) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * The chunks of a stream up to `maxBytes`. Past that the stream is cancelled, `over` is true and the
 * chunk that crossed the line is left out.
 */
async function readChunks(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<{ chunks: Uint8Array[]; over: boolean }> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks, over: false };
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return { chunks, over: true };
    }
    chunks.push(value);
  }
}

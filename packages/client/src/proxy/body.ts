/** Reading a body with a byte ceiling, counted as it streams in (shared by the proxy and the webhooks). */

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
  const { bytes, over } = await readStreamCapped(request.body, maxBytes);
  return over ? { ok: false, reason: "too-large" } : { ok: true, bytes };
}

/** Reads a response body as text, cut at `maxBytes` (error bodies are small; a huge one is not worth holding). */
export async function readTextCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const decoder = new TextDecoder();
  let text = "";
  for (const chunk of (await readChunks(body, maxBytes, true)).chunks) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** A stream's bytes in one array, up to `maxBytes`; `over` when there were more (the stream is then cancelled). */
export async function readStreamCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; over: boolean }> {
  if (!body) return { bytes: new Uint8Array(0), over: false };
  const { chunks, over } = await readChunks(body, maxBytes);
  if (over) return { bytes: new Uint8Array(0), over };
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, over };
}

/**
 * The chunks of a stream up to `maxBytes`. Past that the stream is cancelled and `over` is true; the
 * chunks read so far are kept only with `keepPartial` (a cut error text), the one that crossed the line never.
 */
async function readChunks(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  keepPartial = false,
): Promise<{ chunks: Uint8Array[]; over: boolean }> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks, over: false };
    total += value.byteLength;
    if (total > maxBytes) {
      // Dropped before the cancel settles, so what was read can be collected while it does.
      if (!keepPartial) chunks.length = 0;
      await reader.cancel().catch(() => {});
      return { chunks, over: true };
    }
    chunks.push(value);
  }
}

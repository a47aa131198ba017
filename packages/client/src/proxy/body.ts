/**
 * A response body as text, cut at `maxBytes`: error bodies are small, and a huge one is not worth holding
 * (bodies that must be whole or refused go through the core's `readCapped`).
 */
export async function readTextCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return text + decoder.decode();
    }
    text += decoder.decode(value, { stream: true });
  }
}

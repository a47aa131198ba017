/**
 * Keeping the key out of what goes back to the browser: upstream may echo the `Authorization` header in a
 * header, an error, a result or a status event, raw, URL-encoded or base64 (the core's `redact` knows
 * every form). Streamed bodies are scrubbed as they flow, holding back only as many characters as the
 * longest form of the key, so a key split across two chunks is still caught.
 */
import { redact, secretForms } from "@kontext-sdk/schema/protocol";

/** Copies `headers` with every value scrubbed. */
export function scrubHeaders(headers: Headers, secrets: readonly string[]): Headers {
  const out = new Headers();
  headers.forEach((value, name) => {
    out.set(name, redact(value, secrets));
  });
  return out;
}

/** Scrubs text that arrives in pieces: `push` returns what is safe to send now, `flush` the rest. */
export class TextScrubber {
  private pending = "";
  private readonly hold: number;

  constructor(private readonly secrets: readonly string[]) {
    this.hold = Math.max(0, ...secrets.flatMap((secret) => secretForms(secret).map((form) => form.length - 1)));
  }

  push(text: string): string {
    const scrubbed = redact(this.pending + text, this.secrets);
    // A form of the key that is still incomplete starts within the last `hold` characters: keep them.
    const cut = Math.max(0, scrubbed.length - this.hold);
    this.pending = scrubbed.slice(cut);
    return scrubbed.slice(0, cut);
  }

  flush(): string {
    const rest = redact(this.pending, this.secrets);
    this.pending = "";
    return rest;
  }
}

/** A byte stream scrubbed as text (the proxy only relays JSON and server-sent events). */
export function scrubStream(secrets: readonly string[]): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const scrubber = new TextScrubber(secrets);
  return new TransformStream({
    transform(chunk, controller) {
      const safe = scrubber.push(decoder.decode(chunk, { stream: true }));
      if (safe) controller.enqueue(encoder.encode(safe));
    },
    flush(controller) {
      const rest = scrubber.push(decoder.decode()) + scrubber.flush();
      if (rest) controller.enqueue(encoder.encode(rest));
    },
  });
}

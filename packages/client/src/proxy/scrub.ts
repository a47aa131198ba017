/**
 * Keeping the key out of what goes back to the browser: upstream may echo the `Authorization` header in a
 * header, an error, a result or a status event, raw, URL-encoded or base64 (the core's `redact` knows
 * every form). Streamed bodies are scrubbed as they flow, holding back only as many characters as the
 * longest form of the key, so a key split across two chunks is still caught.
 */
import { redactor, secretForms } from "@kontext-sdk/schema/protocol";

/**
 * The key's forms worked out once for a relayed call (each `redact` call would recompute them, ~10x the
 * cost of the scrub itself): `clean` redacts a text, `hold` is how many trailing characters of a stream
 * may still be the start of a form (the longest form, less one).
 */
export interface Scrub {
  clean: (text: string) => string;
  hold: number;
}

export function scrubFor(secrets: readonly string[]): Scrub {
  return {
    clean: redactor(secrets),
    hold: Math.max(0, ...secrets.flatMap((secret) => secretForms(secret).map((form) => form.length - 1))),
  };
}

/** Copies `headers` with every value scrubbed. */
export function scrubHeaders(headers: Headers, clean: Scrub["clean"]): Headers {
  const out = new Headers();
  headers.forEach((value, name) => {
    out.set(name, clean(value));
  });
  return out;
}

/** Scrubs text that arrives in pieces: `push` returns what is safe to send now, `flush` the rest. */
export class TextScrubber {
  private pending = "";

  constructor(private readonly scrub: Scrub) {}

  push(text: string): string {
    const scrubbed = this.scrub.clean(this.pending + text);
    // A form of the key that is still incomplete starts within the last `hold` characters: keep them.
    const cut = Math.max(0, scrubbed.length - this.scrub.hold);
    this.pending = scrubbed.slice(cut);
    return scrubbed.slice(0, cut);
  }

  flush(): string {
    const rest = this.scrub.clean(this.pending);
    this.pending = "";
    return rest;
  }
}

/** A byte stream scrubbed as text (the proxy only relays JSON and server-sent events). */
export function scrubStream(scrub: Scrub): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const scrubber = new TextScrubber(scrub);
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

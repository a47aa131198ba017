/**
 * Server-sent events, as fal's `status/stream` sends them: the one SSE reader of the packages (the client
 * follows jobs with it, the contract kit judges a server's stream with it). The format is a protocol
 * rule, so it lives here once; what a reader does with the events (retries, idleness, verdicts) stays
 * with each package.
 */

/** What the parser hands on: an event's data, or a comment (a server's keep-alive). */
export type SseMessage = { data: string } | { comment: true };

/** Feeds decoded text in chunks of any size; returns how many characters wait for a line end. */
export type SseFeed = (chunk: string) => number;

/**
 * The part of the SSE format fal's stream uses (WHATWG HTML §9.2.6): lines ending in CR, LF or CRLF, `data`
 * fields joined by newlines, an event dispatched on a blank line, comments starting with `:`; `event`, `id`
 * and `retry` are ignored (fal sends none, and no reader here needs them). A leading byte-order mark is
 * the decoder's business (`TextDecoder` drops it). The returned count lets a reader cap a line that never
 * ends: a stream is not a body to buffer.
 */
export function createSseParser(onMessage: (message: SseMessage) => void): SseFeed {
  let buffer = "";
  let data: string[] = [];
  let afterCr = false;
  return (chunk) => {
    // A CR ends a line at once; when it was the first half of a CRLF split across chunks, the LF that
    // opens the next chunk belongs to it and is dropped.
    buffer += afterCr && chunk.startsWith("\n") ? chunk.slice(1) : chunk;
    afterCr = chunk.endsWith("\r");
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        if (data.length) onMessage({ data: data.join("\n") });
        data = [];
      } else if (line.startsWith(":")) onMessage({ comment: true });
      else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        if (field === "data") data.push(colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, ""));
      }
    }
    return buffer.length;
  };
}

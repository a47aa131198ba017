/**
 * URL rewriting: `status_url`, `response_url` and `cancel_url` in submit and status answers, and in the
 * status stream's events, are rebuilt to point at the proxy, so a browser that follows them stays on it.
 */
import { isSafeRequestId, requestPath } from "@kontext-sdk/schema/protocol";
import type { QueueOperation } from "./operations.js";
import { type Scrub, TextScrubber } from "./scrub.js";

const URL_FIELDS = { status_url: "status", response_url: "result", cancel_url: "cancel" } as const;

/** A JSON answer with its URL fields rebuilt on `mount`; anything that is not a JSON object is left as is. */
export function rewriteUrls(text: string, operation: QueueOperation, mount: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return text;
  const record = body as Record<string, unknown>;
  const requestId = isSafeRequestId(record.request_id)
    ? record.request_id
    : "requestId" in operation
      ? operation.requestId
      : undefined;
  // URLs are rebuilt from the registry's app path and the request id rather than edited, so
  // whatever host upstream named (gateways name fal's), the browser only ever sees the proxy.
  for (const [field, kind] of Object.entries(URL_FIELDS)) {
    if (!(field in record)) continue;
    if (requestId === undefined) delete record[field];
    else record[field] = `${mount}${requestPath(operation.appPath, requestId, kind)}`;
  }
  return JSON.stringify(record);
}

/**
 * Rewrites the URLs inside each `data:` line of the status stream, and scrubs the key from every line,
 * line by line: every complete line goes out as soon as its newline arrives, so an event is never held
 * back past its own end. A stream that does not look like `\n`-separated server-sent events is passed
 * through without rewriting, still scrubbed.
 */
export function rewriteEventUrls(
  operation: QueueOperation,
  mount: string,
  maxLineBytes: number,
  scrub: Scrub,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  let passthrough: TextScrubber | undefined;
  const send = (controller: TransformStreamDefaultController<Uint8Array>, text: string) => {
    if (text) controller.enqueue(encoder.encode(text));
  };
  return new TransformStream({
    transform(chunk, controller) {
      const text = decoder.decode(chunk, { stream: true });
      if (passthrough) return send(controller, passthrough.push(text));
      pending += text;
      const end = pending.lastIndexOf("\n");
      if (end === -1) {
        // No line break yet: a lone-CR stream or a huge line. Stop rewriting rather than hold bytes back.
        if (pending.includes("\r") || pending.length > maxLineBytes) {
          passthrough = new TextScrubber(scrub);
          send(controller, passthrough.push(pending));
          pending = "";
        }
        return;
      }
      const lines = pending.slice(0, end + 1);
      pending = pending.slice(end + 1);
      const rewritten = lines.replace(/^data:(.*)$/gm, (line, data: string) => rewriteDataLine(line, data, operation, mount));
      send(controller, scrub.clean(rewritten));
    },
    flush(controller) {
      const rest = decoder.decode();
      if (passthrough) return send(controller, passthrough.push(rest) + passthrough.flush());
      send(controller, scrub.clean(pending + rest));
    },
  });
}

function rewriteDataLine(line: string, data: string, operation: QueueOperation, mount: string): string {
  const carriageReturn = data.endsWith("\r") ? "\r" : "";
  const json = data.slice(data.startsWith(" ") ? 1 : 0, data.length - carriageReturn.length);
  if (!json.startsWith("{") || !/"(status|response|cancel)_url"/.test(json)) return line;
  return `data: ${rewriteUrls(json, operation, mount)}${carriageReturn}`;
}

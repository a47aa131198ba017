/**
 * The relay: the upstream call (the server's key instead of the caller's, only harmless headers, no
 * redirects) and the answer sent back (safe headers, rewritten URLs, the key scrubbed).
 */
import { FAL_HEADERS, redact } from "@kontext-sdk/schema/protocol";
import { readTextCapped } from "./body.js";
import type { Operation } from "./operations.js";
import { fail } from "./refusal.js";
import { rewriteEventUrls, rewriteUrls } from "./rewrite.js";

// Request headers worth forwarding: the content negotiation pair and fal's own `x-fal-*` options,
// minus anything that could carry a credential or re-target the request.
const FORWARDED_REQUEST_HEADERS = new Set(["content-type", "accept"]);
const SENSITIVE_HEADER = /auth|token|key|secret|cookie|session|jwt|signature|target-url/;
// Response headers a browser may see. Hop-by-hop, length and encoding headers are left to the
// runtime (the body may be rewritten or decompressed), cookies and server details never leave.
const FORWARDED_RESPONSE_HEADERS = [
  "content-type",
  "cache-control",
  "retry-after",
  FAL_HEADERS.requestId,
  FAL_HEADERS.errorType,
  FAL_HEADERS.retryable,
  FAL_HEADERS.requestTimeoutType,
];
/** Error, submit and status bodies are read in full (to scrub and rewrite them) up to this size. */
export const MAX_BUFFERED_RESPONSE_BYTES = 1024 * 1024;

/** The headers sent upstream: harmless ones from the caller, and the server's key. */
export function upstreamHeaders(incoming: Headers, operation: Operation, authorization: string): Headers {
  const headers = new Headers();
  incoming.forEach((value, name) => {
    if (FORWARDED_REQUEST_HEADERS.has(name) || (name.startsWith("x-fal-") && !SENSITIVE_HEADER.test(name.slice(6)))) {
      headers.set(name, value);
    }
  });
  // Only submits and runs have a body; a stray content-type on a GET means nothing upstream.
  if (operation.kind !== "submit" && operation.kind !== "run") headers.delete("content-type");
  else headers.set("content-type", "application/json");
  headers.set("authorization", authorization);
  return headers;
}

/** Turns the upstream answer into the browser's answer: safe headers, rewritten URLs, redacted errors. */
export async function relay(upstream: Response, operation: Operation, mount: string, credentials: string): Promise<Response> {
  if (upstream.status >= 300 && upstream.status < 400) {
    await upstream.body?.cancel().catch(() => {});
    return fail(502, "proxy_upstream_redirect", "the upstream API answered with a redirect, which the proxy does not follow");
  }
  const headers = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const ok = upstream.status >= 200 && upstream.status < 300;
  const rewrites = ok && (operation.kind === "submit" || operation.kind === "status");
  if (!ok || rewrites) {
    // Small bodies, read in full: error bodies are scrubbed of the key in case upstream echoes it,
    // submit and status answers get their URLs pointed back at the proxy.
    let text = redact(await readTextCapped(upstream.body, MAX_BUFFERED_RESPONSE_BYTES), [credentials]);
    if (rewrites) text = rewriteUrls(text, operation, mount);
    return new Response(text, { status: upstream.status, headers });
  }
  if (operation.kind === "stream" && upstream.body) {
    // These ask intermediaries not to buffer the event stream either.
    if (!headers.has("cache-control")) headers.set("cache-control", "no-cache");
    headers.set("x-accel-buffering", "no");
    const events = upstream.body.pipeThrough(rewriteEventUrls(operation, mount, MAX_BUFFERED_RESPONSE_BYTES));
    return new Response(events, { status: upstream.status, headers });
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}

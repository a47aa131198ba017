/**
 * The relay: the upstream call (the server's key instead of the caller's, only harmless headers, no
 * redirects, a deadline) and the answer sent back (safe and scrubbed headers, rewritten URLs, bodies
 * and events scrubbed of the key, streams cut when upstream goes silent).
 */
import { FAL_HEADERS } from "@kontext-sdk/schema/protocol";
import { readTextCapped } from "./body.js";
import type { ProxyConfig } from "./config.js";
import type { Operation } from "./operations.js";
import { refuse } from "./refusal.js";
import { rewriteEventUrls, rewriteUrls } from "./rewrite.js";
import type { Route } from "./routing.js";
import { type Scrub, scrubFor, scrubHeaders, scrubStream } from "./scrub.js";
import { idleTimeout, UpstreamDeadline } from "./timeouts.js";

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

/** What one relayed call needs to know. */
interface Relay {
  route: Route;
  secrets: readonly string[];
  /** The key's redaction, worked out once for every header, body and chunk of this call. */
  scrub: Scrub;
  deadline: UpstreamDeadline;
  idleMs: number;
  /** Aborted when the browser goes away, the deadline passes or a stream goes silent. */
  upstreamSignal: AbortSignal;
  abortUpstream: () => void;
}

/**
 * Calls upstream with the server's key and turns its answer into the browser's. A deadline covers the
 * answer and any body read in full (504 when it passes); streamed bodies get an idle limit instead.
 */
export async function relayCall(
  config: ProxyConfig,
  request: Request,
  route: Route,
  body: string | undefined,
  credentials: string,
): Promise<Response> {
  const upstreamAbort = new AbortController();
  const abortUpstream = () => upstreamAbort.abort();
  const upstreamSignal = AbortSignal.any([request.signal, upstreamAbort.signal]);
  const limitMs = route.operation.kind === "run" ? config.timeouts.runMs : config.timeouts.upstreamMs;
  const deadline = new UpstreamDeadline(limitMs, abortUpstream);
  const secrets = [credentials];
  const relay: Relay = {
    route,
    secrets,
    scrub: scrubFor(secrets),
    deadline,
    idleMs: config.timeouts.streamIdleMs,
    upstreamSignal,
    abortUpstream,
  };
  try {
    let upstream: Response;
    try {
      upstream = await deadline.race(
        config.fetch(route.upstream.href, {
          method: request.method.toUpperCase(),
          headers: upstreamHeaders(request.headers, route.operation, `${config.authScheme} ${credentials}`),
          body,
          signal: upstreamSignal,
          // A redirect would carry the key to wherever upstream points; fal's API never redirects.
          redirect: "manual",
        }),
      );
    } catch (error) {
      if (deadline.expired) return timedOut(deadline);
      if (request.signal.aborted) throw error;
      config.report(error, request, relay.secrets);
      return refuse(502, "proxy_upstream_unreachable", "upstream_unreachable", "the upstream API could not be reached");
    }
    return await answer(upstream, relay);
  } catch (error) {
    if (deadline.expired) return timedOut(deadline);
    throw error;
  } finally {
    deadline.clear();
  }
}

const timedOut = (deadline: UpstreamDeadline) =>
  refuse(504, "proxy_upstream_timeout", "upstream_timeout", `the upstream API did not answer within ${deadline.limitMs} ms`);

/** The headers sent upstream: harmless ones from the caller, and the server's key. */
export function upstreamHeaders(incoming: Headers, operation: Operation, authorization: string): Headers {
  const headers = new Headers();
  incoming.forEach((value, name) => {
    if (FORWARDED_REQUEST_HEADERS.has(name) || (name.startsWith("x-fal-") && !SENSITIVE_HEADER.test(name.slice(6)))) {
      headers.set(name, value);
    }
  });
  // Only submits, runs and upload initiates have a body (JSON, re-serialised by the proxy); a stray
  // content-type on a GET means nothing upstream.
  if (operation.kind === "submit" || operation.kind === "run" || operation.kind === "upload")
    headers.set("content-type", "application/json");
  else headers.delete("content-type");
  headers.set("authorization", authorization);
  return headers;
}

/** Turns the upstream answer into the browser's answer: safe headers, rewritten URLs, no key anywhere. */
async function answer(upstream: Response, relay: Relay): Promise<Response> {
  const { operation, mount } = relay.route;
  if (upstream.status >= 300 && upstream.status < 400) {
    await upstream.body?.cancel().catch(() => {});
    return refuse(
      502,
      "proxy_upstream_redirect",
      "upstream_redirect",
      "the upstream API answered with a redirect, which the proxy does not follow",
    );
  }
  const kept = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) kept.set(name, value);
  }
  // Even allow-listed headers: `x-fal-error-type: bad key <the key>` must not reach the browser.
  const headers = scrubHeaders(kept, relay.scrub.clean);
  const ok = upstream.status >= 200 && upstream.status < 300;
  const rewrites = ok && (operation.kind === "submit" || operation.kind === "status") ? operation : undefined;
  if (!ok || rewrites) {
    // Small bodies, read in full (within the deadline): error bodies are scrubbed in case upstream
    // echoes the key, submit and status answers get their URLs pointed back at the proxy. An upload
    // initiate's answer (`{upload_url, file_url}`, fal's signed CDN URLs) is streamed on, scrubbed, unchanged.
    let text = relay.scrub.clean(await relay.deadline.race(readTextCapped(upstream.body, MAX_BUFFERED_RESPONSE_BYTES)));
    if (rewrites) text = rewriteUrls(text, rewrites, mount);
    return new Response(text, { status: upstream.status, headers });
  }
  if (!upstream.body) return new Response(null, { status: upstream.status, headers });
  // Streamed on: from here a silent upstream is cut by the idle limit, not the deadline.
  relay.deadline.clear();
  const watched = upstream.body.pipeThrough(idleTimeout(relay.idleMs, relay.abortUpstream, relay.upstreamSignal));
  if (operation.kind === "stream") {
    // These ask intermediaries not to buffer the event stream either.
    if (!headers.has("cache-control")) headers.set("cache-control", "no-cache");
    headers.set("x-accel-buffering", "no");
    const events = watched.pipeThrough(rewriteEventUrls(operation, mount, MAX_BUFFERED_RESPONSE_BYTES, relay.scrub));
    return new Response(events, { status: upstream.status, headers });
  }
  return new Response(watched.pipeThrough(scrubStream(relay.scrub)), { status: upstream.status, headers });
}

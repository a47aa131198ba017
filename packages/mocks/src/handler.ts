/**
 * The mock's request handler: read the body (capped), record the request, find the route, let the
 * faults have their say, check credentials, and hand over to the operation. Unexpected errors become a
 * fal-shaped 500: the mock never crashes its host.
 */
import { appPath, readBodyText, unreadableBodyResponse } from "@kontext-sdk/schema/protocol";
import { type ParsedBody, parseBody } from "./body.js";
import type { MockState, RequestScope } from "./context.js";
import { faultResponse } from "./fault-responses.js";
import { FAULT_HEADER, type Fault, type FaultSet, faultFromHeader, type MockOperation } from "./faults.js";
import type { MockHandler } from "./mock.js";
import { cancel } from "./operations/cancel.js";
import { file } from "./operations/files.js";
import { run } from "./operations/run.js";
import { result, status } from "./operations/status.js";
import { stream } from "./operations/stream.js";
import { submit } from "./operations/submit.js";
import type { RecordedRequest, RequestLog } from "./request-log.js";
import { internalError, methodNotAllowed, notFound, requestNotFound, unauthorized } from "./responses.js";
import { type Location, locate, type Route, route } from "./router.js";
import type { StorageSimulator } from "./storage.js";
import type { MockWebhookJwks } from "./webhook-signer.js";

/** What the handler works with, assembled from the options by `createKontextMock`. */
export interface MockParts {
  state: MockState;
  faults: FaultSet;
  log: RequestLog;
  auth: "required" | "any";
  /** Request bodies over this are refused with 413. */
  maxBodyBytes: number;
  webhookJwks(): Promise<MockWebhookJwks>;
  /** fal's storage flow (uploads and the files they make). */
  storage: StorageSimulator;
}

/** One request on its way through the handler. */
interface Incoming {
  request: Request;
  url: URL;
  method: string;
  body: ParsedBody;
  entry: RecordedRequest;
  /** Where it lands (undefined when its path cannot be decoded), worked out once for the storage check and the route. */
  location: Location | undefined;
}

export function createHandler(parts: MockParts): MockHandler {
  return async (request, context) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return notFound();
    }
    const method = request.method.toUpperCase();
    // Uploads carry raw bytes, larger than the JSON cap: storage reads its own bodies, through its own cap.
    const location = locate(url, method, context);
    if (location && parts.storage.owns(location.path)) return answerStorage(parts, request, url, location);
    const read =
      method === "GET" || method === "HEAD"
        ? ({ ok: true, text: "" } as const)
        : await readBodyText(request, parts.maxBodyBytes).catch(() => undefined);
    const text = read?.ok ? read.text : "";
    const body = parseBody(text);
    const entry = parts.log.record(request, url, text, body.ok ? body.value : undefined, parts.state.clock.now());
    if (!read) return unreadableBodyResponse({ reason: "invalid", message: "the request body could not be read" });
    if (!read.ok) {
      entry.bodyBytes = read.bytes;
      return read.response;
    }
    try {
      return await dispatch(parts, { request, url, method, body, entry, location });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      // Never crash the host: an unexpected error is a fal-shaped 500.
      return internalError();
    }
  };
}

async function dispatch(parts: MockParts, incoming: Incoming): Promise<Response> {
  parts.state.store.sweep();
  const { location } = incoming;
  if (!location) return notFound();
  const target = route(location, incoming.method);
  switch (target.kind) {
    case "jwks":
      // The webhook signing key, for a receiver's `jwksUrl`; public, like fal's.
      return Response.json(await parts.webhookJwks(), { headers: { "cache-control": "max-age=3600" } });
    case "not-found":
      return notFound();
    case "method-not-allowed":
      return methodNotAllowed();
    case "file": {
      // Files are served on any host the mock answers, without credentials (like a CDN).
      incoming.entry.operation = "files";
      const hits = parts.faults.take({ operation: "files", requestId: target.requestId });
      const early = await faultAnswer(parts, hits, "files", incoming.request);
      return early ?? file(parts.state.store.get(target.requestId), target.index, target.format);
    }
    case "model":
      return answerModel(parts, incoming, target, location.origin);
    case "request":
      return answerRequest(parts, incoming, target, location.origin);
  }
}

/** The storage flow: initiate needs credentials (like fal's REST host); signed uploads and files do not. */
async function answerStorage(parts: MockParts, request: Request, url: URL, location: Location): Promise<Response> {
  const entry = parts.log.record(request, url, "", undefined, parts.state.clock.now());
  entry.operation = "upload";
  const hits = parts.faults.take({ operation: "upload" });
  const early = await faultAnswer(parts, hits, "upload", request);
  if (early) return early;
  if (parts.storage.needsAuth(location.path) && !isAuthorized(parts, request)) return unauthorized();
  try {
    return await parts.storage.handle(request, url, location.origin, location.path);
  } catch (error) {
    if (request.signal?.aborted) throw error;
    return internalError();
  }
}

/** Submit and sync run: faults first (they stand in for anything in front of the API), then credentials. */
async function answerModel(parts: MockParts, incoming: Incoming, target: Extract<Route, { kind: "model" }>, origin: string) {
  const hits = takeFaults(parts, incoming, target.operation, target.endpoint);
  const early = await faultAnswer(parts, hits, target.operation, incoming.request);
  if (early) return early;
  if (!isAuthorized(parts, incoming.request)) return unauthorized();
  const scope: RequestScope = { request: incoming.request, url: incoming.url, origin, hits, body: incoming.body };
  return target.operation === "run" ? run(parts.state, scope, target.endpoint) : submit(parts.state, scope, target.endpoint);
}

/** Status, stream, result and cancel of one request id; an unknown id is the same flat 404 for all four. */
async function answerRequest(parts: MockParts, incoming: Incoming, target: Extract<Route, { kind: "request" }>, origin: string) {
  const { state } = parts;
  const known = state.store.get(target.requestId);
  const job = known && appPath(known.endpoint) === target.appPath ? known : undefined;
  const hits = takeFaults(parts, incoming, target.operation, job?.endpoint, target.requestId);
  const early = await faultAnswer(parts, hits, target.operation, incoming.request);
  if (early) return early;
  if (!isAuthorized(parts, incoming.request)) return unauthorized();
  if (!job) return requestNotFound();
  switch (target.operation) {
    case "cancel":
      return cancel(state, job);
    case "status":
      return status(state, job, origin, incoming.url);
    case "result":
      return result(job, origin);
    case "stream": {
      const drop = hits.find((fault) => fault.kind === "stream-drop");
      const dropAfter = drop?.kind === "stream-drop" ? (drop.afterEvents ?? 1) : undefined;
      return stream(state, { job, origin, url: incoming.url, signal: incoming.request.signal, dropAfter });
    }
  }
}

/**
 * What the faults that hit a request answer, if anything. Without a hit there is nothing to wait on, and
 * the request's signal is left unread: an adapter may make it only when it is asked for (the server does).
 */
function faultAnswer(parts: MockParts, hits: readonly Fault[], operation: MockOperation, request: Request) {
  if (hits.length === 0) return undefined;
  return faultResponse(hits, operation, parts.state.clock, request.signal);
}

/** The rules that hit this request, plus the one its `x-kontext-mock-fault` header asks for. */
function takeFaults(parts: MockParts, incoming: Incoming, operation: MockOperation, endpoint?: string, requestId?: string) {
  incoming.entry.operation = operation;
  const hits: Fault[] = parts.faults.take({ operation, endpoint, requestId });
  const fromHeader = faultFromHeader(incoming.request.headers.get(FAULT_HEADER));
  return fromHeader ? [...hits, fromHeader] : hits;
}

/** `Authorization: Key <x>` or `Bearer <x>` (any value: the mock checks the form, not the key). */
function isAuthorized(parts: MockParts, request: Request): boolean {
  return parts.auth === "any" || /^(Key|Bearer) \S+/.test(request.headers.get("authorization") ?? "");
}

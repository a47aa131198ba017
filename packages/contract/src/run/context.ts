/**
 * The state one run shares between its check modules: the resolved options, the checks recorded so
 * far and the images requested. Every check goes through `timed` (or `skipped`), so redaction, the
 * abort signal and `onCheck` are handled in exactly one place.
 */
import { type EndpointId, QUEUE_BASE_URL, endpoints as registry } from "@kontext-sdk/schema";
import { appPath, joinUrl, type RequestOperation, redactor, requestPath } from "@kontext-sdk/schema/protocol";
import { KontextContractError } from "../errors.js";
import type { QueueUrlContext } from "../protocol-rules.js";
import type { Violation } from "../validate-response.js";
import type { Check, CheckName, ContractOptions } from "./types.js";

export const ALL_ENDPOINTS = Object.keys(registry) as EndpointId[];

/** What a check writes while it runs; it becomes the check's violations and notes. */
export interface Recorder {
  violations: Violation[];
  notes: string[];
}

export const newRecorder = (): Recorder => ({ violations: [], notes: [] });

export interface RunContext {
  baseUrl: string;
  syncBaseUrl: string | undefined;
  endpoints: EndpointId[];
  /** The endpoint the protocol-wide checks (cancel, invalid input, unknown id, sync) use. */
  probe: EndpointId;
  secret: string | undefined;
  /** The `Authorization` header value, when credentials were given. */
  authorization: string | undefined;
  /**
   * `text` with every form of the secret cut out; built once per run (a secret's forms take base64
   * work). Applied where an answer arrives, before anything shortens it: a cut through a key would
   * leave a piece no later redaction recognises.
   */
  redact: (text: string) => string;
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  requestTimeoutMs: number;
  pollIntervalMs: number;
  allowForeignUrls: boolean;
  imageUrl: string | undefined;
  skip: ReadonlySet<CheckName>;
  checks: Check[];
  imagesRequested: number;
  /** `foreign-origin` URLs already reported in this run (each is reported once). */
  reportedForeignUrls: Set<string>;
  onCheck: ((check: Check) => void) | undefined;
}

export function createRunContext(options: ContractOptions): RunContext {
  const chosen = [...(options.endpoints ?? ALL_ENDPOINTS)];
  for (const endpoint of chosen) {
    if (!Object.hasOwn(registry, endpoint)) {
      throw new KontextContractError(`endpoints: unknown endpoint ${endpoint}; known: ${ALL_ENDPOINTS.join(", ")}`);
    }
  }
  const secret = options.credentials || undefined;
  return {
    baseUrl: trimSlash(options.baseUrl ?? QUEUE_BASE_URL),
    syncBaseUrl: options.syncBaseUrl ? trimSlash(options.syncBaseUrl) : undefined,
    endpoints: chosen,
    probe: chosen[0] ?? ALL_ENDPOINTS[0]!,
    secret,
    authorization: secret ? `${options.authScheme ?? "Key"} ${secret}` : undefined,
    redact: redactor([secret]),
    fetch: options.fetch ?? globalThis.fetch,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 180_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    pollIntervalMs: options.pollIntervalMs ?? 500,
    allowForeignUrls: options.allowForeignUrls ?? false,
    imageUrl: options.imageUrl,
    skip: new Set(options.skip ?? []),
    checks: [],
    imagesRequested: 0,
    reportedForeignUrls: new Set(),
    onCheck: options.onCheck,
  };
}

/**
 * Records a finished check: keys redacted (even when a server echoed the Authorization header back).
 * Answers are redacted as they arrive already; this catches text from anywhere else (headers, errors).
 */
function finish(context: RunContext, check: Check): Check {
  for (const violation of check.violations) violation.message = context.redact(violation.message);
  if (check.notes) check.notes = check.notes.map(context.redact);
  check.ok = check.violations.length === 0;
  context.checks.push(check);
  context.onCheck?.(check);
  return check;
}

/** Runs one check body, timing it; an unexpected throw becomes a `runner-error`, an abort rejects the run. */
export async function timed(
  context: RunContext,
  name: CheckName,
  endpoint: EndpointId | undefined,
  body: (recorder: Recorder) => Promise<void>,
): Promise<Check> {
  // An injected fetch may ignore signals; the runner itself must still stop.
  context.signal?.throwIfAborted();
  const started = Date.now();
  const recorder = newRecorder();
  try {
    await body(recorder);
  } catch (error) {
    if (context.signal?.aborted) throw context.signal.reason;
    // Transport failures are caught in send(); anything reaching here is unexpected.
    recorder.violations.push({ rule: "runner-error", path: "$", message: errorText(error) });
  }
  const check: Check = { name, ok: true, violations: recorder.violations, durationMs: Date.now() - started };
  if (endpoint) check.endpoint = endpoint;
  if (recorder.notes.length) check.notes = recorder.notes;
  return finish(context, check);
}

/** Records a check that did not run, with the reason. */
export function skipped(context: RunContext, name: CheckName, endpoint: EndpointId | undefined, reason: string): void {
  const check: Check = { name, ok: true, violations: [], durationMs: 0, skipped: reason };
  if (endpoint) check.endpoint = endpoint;
  finish(context, check);
}

/** A request URL on the owner/app path, always built from the registry, never taken from an answer. */
export function queueUrl(context: RunContext, endpoint: EndpointId, requestId: string, operation: RequestOperation, query = "") {
  return joinUrl(context.baseUrl, requestPath(endpoint, requestId, operation)) + query;
}

export function urlContext(context: RunContext, endpoint: EndpointId, requestId: string): QueueUrlContext {
  return {
    baseUrl: context.baseUrl,
    appPath: appPath(endpoint),
    endpoint,
    requestId,
    allowForeignUrls: context.allowForeignUrls,
    reportedForeignUrls: context.reportedForeignUrls,
  };
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * The conversation runner: walks fal's queue protocol the way a client does, against any base
 * URL, and checks every request it sends and every answer it gets. It uses raw fetch on purpose:
 * a client's retries and URL rewriting would hide exactly the answers a contract check must see.
 */
import { type EndpointId, formatIssues, QUEUE_BASE_URL, endpoints as registry, validateInput } from "@kontext-sdk/schema";
import {
  appPath,
  describeErrorBody,
  joinUrl,
  parseRetryAfter,
  type RequestOperation,
  redact,
  requestPath,
  sleep,
  truncate,
} from "@kontext-sdk/schema/protocol";
import { createParser } from "eventsource-parser";
import { KontextContractError } from "./errors.js";
import { checkProgress, checkQueueUrls, checkRequestId, checkStatusCode, type QueueUrlContext } from "./protocol-rules.js";
import type { OperationId } from "./spec-operations.js";
import { type Violation, validateResponse } from "./validate-response.js";

/** The checks a run can hold, in report order per endpoint, then the protocol-wide ones. */
export const CHECK_NAMES = [
  "submit",
  "result before completion",
  "status without logs",
  "status with logs",
  "status stream",
  "poll to completion",
  "result",
  "cancel",
  "invalid input",
  "unknown request id",
  "sync run",
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface Check {
  name: CheckName;
  /** The endpoint the check ran against; absent for protocol-wide checks. */
  endpoint?: EndpointId;
  ok: boolean;
  violations: Violation[];
  durationMs: number;
  /** Why the check did not run (the image budget, an earlier failure, an option); a skipped check is ok. */
  skipped?: string;
  /** Facts worth a line in the report, e.g. the request id or a race that was tolerated. */
  notes?: string[];
}

export interface ContractReport {
  baseUrl: string;
  syncBaseUrl?: string;
  endpoints: EndpointId[];
  checks: Check[];
  /** Sum of `num_images` over every submit the runner sent (including the one it cancels and the invalid one). */
  imagesRequested: number;
  maxImages: number;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
}

export interface ContractOptions {
  /** The queue host to check; default fal's `https://queue.fal.run`. */
  baseUrl?: string;
  /** The sync host; when given, one synchronous run is checked too (it costs one image). */
  syncBaseUrl?: string;
  /** `Key` (fal) or `Bearer` (gateways); default `Key`. */
  authScheme?: "Key" | "Bearer";
  /** The key or token; sent only to the base URLs, never printed. Leave out for servers without auth. */
  credentials?: string;
  /** Which endpoints get a job each; default all six. */
  endpoints?: readonly EndpointId[];
  /**
   * Upper bound on images the run may request (each submit asks for one). Submits that would
   * exceed it are skipped and the report says so. Default: no bound — pass one against a paid API.
   */
  maxImages?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** How long one job may take to reach COMPLETED; default 180 s. */
  timeoutMs?: number;
  /** Limit for one HTTP call; default 30 s. */
  requestTimeoutMs?: number;
  /** Pause between status polls; default 500 ms (fal-js's interval). */
  pollIntervalMs?: number;
  /** Do not report `foreign-origin` (gateways that answer with fal's URLs, spec/DECISIONS.md #9). */
  allowForeignUrls?: boolean;
  /** Input image for edit and multi endpoints; default a 16×16 PNG data URI, so nothing is fetched. */
  imageUrl?: string;
  /** Checks to leave out, e.g. `invalid input` behind a proxy that validates requests itself. */
  skip?: readonly CheckName[];
  /** Called as each check finishes, for progress output. */
  onCheck?: (check: Check) => void;
}

/** 16×16 solid PNGs: valid images any server can decode, small enough to send inline. */
const PNG_A =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mM4EaBBEmIY1TCqYfhqAAC/xkAQBZlNgAAAAABJRU5ErkJggg==";
const PNG_B =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mPQCDhBEmIY1TCqYfhqAAB/t0AQQ7an9gAAAABJRU5ErkJggg==";

const ALL_ENDPOINTS = Object.keys(registry) as EndpointId[];

interface Exchange {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
  /** Network failure or unreadable body; the answer could not be checked further. */
  failed: boolean;
}

type Recorder = { violations: Violation[]; notes: string[] };

export async function runContract(options: ContractOptions = {}): Promise<ContractReport> {
  const started = Date.now();
  const baseUrl = trimSlash(options.baseUrl ?? QUEUE_BASE_URL);
  const syncBaseUrl = options.syncBaseUrl ? trimSlash(options.syncBaseUrl) : undefined;
  const chosen = [...(options.endpoints ?? ALL_ENDPOINTS)];
  const maxImages = options.maxImages ?? Number.POSITIVE_INFINITY;
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 180_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const skip = new Set(options.skip ?? []);
  const imageUrl = options.imageUrl;
  const checks: Check[] = [];
  let imagesRequested = 0;

  for (const endpoint of chosen) {
    if (!Object.hasOwn(registry, endpoint))
      throw new KontextContractError(`endpoints: unknown endpoint ${endpoint}; known: ${ALL_ENDPOINTS.join(", ")}`);
  }

  // Plan the image budget up front, in priority order: one job per endpoint first, then the
  // cancelled job, the invalid input and the sync run. What does not fit is skipped, not cut short.
  let budget = maxImages;
  const take = () => {
    if (budget < 1) return false;
    budget--;
    return true;
  };
  const endpointBudget = chosen.map(() => take());
  const cancelBudget = !skip.has("cancel") && chosen.length > 0 && take();
  const invalidBudget = !skip.has("invalid input") && take();
  const syncBudget = !skip.has("sync run") && syncBaseUrl !== undefined && take();
  const overBudget = `skipped: max images (${maxImages}) reached`;

  const secret = options.credentials;
  const authorization = secret ? `${options.authScheme ?? "Key"} ${secret}` : undefined;

  // Keys must never reach a report, even when a server echoes the Authorization header back.
  const finish = (check: Check) => {
    for (const v of check.violations) v.message = redact(v.message, [secret]);
    if (check.notes) check.notes = check.notes.map((note) => redact(note, [secret]));
    check.ok = check.violations.length === 0;
    checks.push(check);
    options.onCheck?.(check);
  };

  const timed = async (
    name: CheckName,
    endpoint: EndpointId | undefined,
    body: (rec: Recorder) => Promise<void>,
  ): Promise<Check> => {
    // An injected fetch may ignore signals; the runner itself must still stop.
    options.signal?.throwIfAborted();
    const t0 = Date.now();
    const rec: Recorder = { violations: [], notes: [] };
    try {
      await body(rec);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // Transport failures are caught in send(); anything reaching here is unexpected.
      rec.violations.push({ rule: "runner-error", path: "$", message: errorText(error) });
    }
    const check: Check = { name, ok: true, violations: rec.violations, durationMs: Date.now() - t0 };
    if (endpoint) check.endpoint = endpoint;
    if (rec.notes.length) check.notes = rec.notes;
    finish(check);
    return check;
  };

  const skipped = (name: CheckName, endpoint: EndpointId | undefined, reason: string) => {
    const check: Check = { name, ok: true, violations: [], durationMs: 0, skipped: reason };
    if (endpoint) check.endpoint = endpoint;
    finish(check);
  };

  const send = async (
    rec: Recorder,
    operationId: OperationId,
    method: string,
    url: string,
    json?: unknown,
  ): Promise<Exchange> => {
    options.signal?.throwIfAborted();
    const headers: Record<string, string> = { accept: "application/json" };
    if (authorization) headers.authorization = authorization;
    if (json !== undefined) headers["content-type"] = "application/json";
    const signal = withTimeout(options.signal, requestTimeoutMs);
    let response: Response;
    try {
      response = await doFetch(url, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      rec.violations.push({ operationId, rule: "network-error", path: "$", message: `${method} ${url}: ${errorText(error)}` });
      return { status: 0, headers: new Headers(), text: "", body: undefined, failed: true };
    }
    const text = await response.text();
    const exchange: Exchange = { status: response.status, headers: response.headers, text, body: undefined, failed: false };
    const type = response.headers.get("content-type") ?? "";
    if (text !== "") {
      try {
        exchange.body = JSON.parse(text);
      } catch {
        exchange.failed = true;
        rec.violations.push({
          operationId,
          status: response.status,
          rule: "invalid-json",
          path: "$",
          message: `${method} ${url} answered ${response.status} ${type || "(no content-type)"} that is not JSON: ${truncate(text, 80)}`,
        });
        return exchange;
      }
    }
    rec.violations.push(...validateResponse(operationId, response.status, exchange.body, response.headers));
    return exchange;
  };

  const queueUrl = (endpoint: EndpointId, requestId: string, operation: RequestOperation = "result", query = "") =>
    joinUrl(baseUrl, requestPath(endpoint, requestId, operation)) + query;

  const inputFor = (endpoint: EndpointId, prompt: string): Record<string, unknown> => {
    const input: Record<string, unknown> = { prompt, num_images: 1, output_format: "png", seed: 7 };
    const kind = registry[endpoint].kind;
    if (kind === "edit") input.image_url = imageUrl ?? PNG_A;
    if (kind === "multi") input.image_urls = imageUrl ? [imageUrl] : [PNG_A, PNG_B];
    if (kind === "text-to-image") input.aspect_ratio = "1:1";
    return input;
  };

  /** Validates the runner's own request first: a contract tool must not send what the spec forbids. */
  const submit = async (rec: Recorder, endpoint: EndpointId, input: Record<string, unknown>, expectValid = true) => {
    const checked = validateInput(endpoint, input);
    if (expectValid && !checked.ok) {
      rec.violations.push({
        operationId: registry[endpoint].operationId,
        rule: "request-invalid",
        path: "$",
        message: `the runner's own input is invalid: ${formatIssues(checked.issues)}`,
      });
    }
    imagesRequested += typeof input.num_images === "number" ? input.num_images : 1;
    return send(rec, registry[endpoint].operationId, "POST", `${baseUrl}/${endpoint}`, input);
  };

  const urlContext = (endpoint: EndpointId, requestId: string): QueueUrlContext => ({
    baseUrl,
    appPath: appPath(endpoint),
    endpoint,
    requestId,
    allowForeignUrls: options.allowForeignUrls,
  });

  /**
   * A small valid job that must be accepted: a rejection, a missing request id and off-base queue URLs
   * are violations (a wrong key must read as a failure, not as a run of skipped checks). Returns the
   * request id, if there is one to go on with.
   */
  const acceptedSubmit = async (
    rec: Recorder,
    endpoint: EndpointId,
    input: Record<string, unknown>,
  ): Promise<string | undefined> => {
    const ex = await submit(rec, endpoint, input);
    const base = { operationId: registry[endpoint].operationId, status: ex.status };
    if (ex.status >= 300) {
      rec.violations.push({
        ...base,
        rule: "submit-rejected",
        path: "$",
        message: `a small valid job was answered ${ex.status}: ${describeErrorBody(ex.body ?? ex.text, 80) || truncate(ex.text, 80)}`,
      });
      return undefined;
    }
    if (ex.failed) return undefined;
    rec.violations.push(...checkRequestId(ex.body, base));
    const id = (ex.body as { request_id?: unknown } | null)?.request_id;
    if (typeof id !== "string" || !id) return undefined;
    rec.violations.push(...checkQueueUrls(ex.body, urlContext(endpoint, id), base));
    return id;
  };

  /** One status call with every per-answer rule applied; returns the state it reports. */
  const statusOnce = async (rec: Recorder, endpoint: EndpointId, requestId: string, logs: 0 | 1, last?: string) => {
    const ex = await send(rec, "getStatus", "GET", queueUrl(endpoint, requestId, "status", `?logs=${logs}`));
    if (ex.failed) return undefined;
    const base = { operationId: "getStatus" as const, status: ex.status };
    // A documented 429 is not a failure of the job: the poll loop waits and asks again.
    if (ex.status === 429) return { rateLimited: retryAfterMs(ex.headers) ?? Math.max(pollIntervalMs, 1_000) };
    if (ex.status === 404) {
      rec.violations.push({
        ...base,
        rule: "owner-app-path",
        path: "$",
        message: `status on ${requestPath(endpoint, requestId, "status")} answered 404 for a request just submitted`,
      });
      return undefined;
    }
    rec.violations.push(...checkStatusCode(ex.status, ex.body, base));
    rec.violations.push(...checkQueueUrls(ex.body, urlContext(endpoint, requestId), base));
    const state = (ex.body as { status?: unknown } | null)?.status;
    rec.violations.push(...checkProgress(last, state, base));
    return typeof state === "string" ? state : undefined;
  };
  const stateOf = (answer: Awaited<ReturnType<typeof statusOnce>>) => (typeof answer === "string" ? answer : undefined);

  const deadline = () => Date.now() + timeoutMs;

  // --- protocol-wide checks that cost nothing -------------------------------------------------
  const probe = chosen[0] ?? ALL_ENDPOINTS[0]!;

  if (skip.has("unknown request id")) skipped("unknown request id", undefined, "skipped by option");
  else {
    await timed("unknown request id", undefined, async (rec) => {
      const id = randomId();
      const answers: [OperationId, string, string][] = [
        ["getStatus", "GET", queueUrl(probe, id, "status", "?logs=0")],
        ["getResult", "GET", queueUrl(probe, id)],
        ["cancelRequest", "PUT", queueUrl(probe, id, "cancel")],
      ];
      for (const [operationId, method, url] of answers) {
        const ex = await send(rec, operationId, method, url);
        if (!ex.failed && ex.status !== 404) {
          rec.violations.push({
            operationId,
            status: ex.status,
            rule: "unknown-id-not-404",
            path: "$",
            message: `${method} for an unknown request id answered ${ex.status}, not 404`,
          });
        }
      }
    });
  }

  if (skip.has("invalid input")) skipped("invalid input", undefined, "skipped by option");
  else if (!invalidBudget) skipped("invalid input", undefined, overBudget);
  else {
    await timed("invalid input", probe, async (rec) => {
      // Everything valid except the required prompt, so no conforming server can start a job.
      const { prompt: _dropped, ...input } = inputFor(probe, "unused");
      if (validateInput(probe, input).ok)
        throw new KontextContractError("the invalid input unexpectedly passed the spec's schema");
      const ex = await submit(rec, probe, input, false);
      if (ex.failed) return;
      if (ex.status !== 422) {
        rec.violations.push({
          operationId: registry[probe].operationId,
          status: ex.status,
          rule: "invalid-input-not-422",
          path: "$",
          message: `an input without the required prompt was answered ${ex.status}; fal answers 422 {detail:[{loc,msg,type}]}`,
        });
      }
      // A server that queued it anyway: do not let the stray job run.
      const stray = (ex.body as { request_id?: unknown } | null)?.request_id;
      if (ex.status < 300 && typeof stray === "string") {
        await send({ violations: [], notes: [] }, "cancelRequest", "PUT", queueUrl(probe, stray, "cancel")).catch(() => {});
      }
    });
  }

  // --- one job per endpoint -------------------------------------------------------------------
  for (const [index, endpoint] of chosen.entries()) {
    const perEndpoint = CHECK_NAMES.slice(0, 7) as CheckName[];
    if (!endpointBudget[index]) {
      for (const name of perEndpoint) skipped(name, endpoint, overBudget);
      continue;
    }
    const input = inputFor(endpoint, "contract check: a small red square");
    let requestId: string | undefined;
    await timed("submit", endpoint, async (rec) => {
      requestId = await acceptedSubmit(rec, endpoint, input);
      if (requestId) rec.notes.push(`request ${requestId}`);
    });
    if (requestId === undefined) {
      for (const name of perEndpoint.slice(1)) skipped(name, endpoint, "skipped: submit gave no request id");
      continue;
    }
    const id = requestId;
    let last: string | undefined;

    await timed("result before completion", endpoint, async (rec) => {
      const ex = await send(rec, "getResult", "GET", queueUrl(endpoint, id));
      if (ex.failed) return;
      if (ex.status === 404) {
        rec.violations.push({
          operationId: "getResult",
          status: 404,
          rule: "owner-app-path",
          path: "$",
          message: `result on ${requestPath(endpoint, id)} answered 404 for a request just submitted`,
        });
      }
      if (ex.status !== 200) return;
      // A 200 here is only wrong if the job really was not done: ask the status right after.
      const state = stateOf(await statusOnce({ violations: [], notes: [] }, endpoint, id, 0));
      if (state === "COMPLETED") rec.notes.push("the job completed before its first status call; nothing to judge");
      else {
        rec.violations.push({
          operationId: "getResult",
          status: 200,
          rule: "result-before-completed",
          path: "$",
          message: `the result was served while the status was ${state ?? "unknown"}; fal answers 400 until COMPLETED`,
        });
      }
    });

    await timed("status without logs", endpoint, async (rec) => {
      last = stateOf(await statusOnce(rec, endpoint, id, 0, last)) ?? last;
    });
    await timed("status with logs", endpoint, async (rec) => {
      last = stateOf(await statusOnce(rec, endpoint, id, 1, last)) ?? last;
    });

    await timed("status stream", endpoint, async (rec) => {
      const outcome = await readStream(rec, queueUrl(endpoint, id, "stream", "?logs=1"), endpoint, id, last);
      if (outcome.last) last = outcome.last;
    });

    await timed("poll to completion", endpoint, async (rec) => {
      const until = deadline();
      let polls = 0;
      for (;;) {
        const answer = await statusOnce(rec, endpoint, id, (polls % 2) as 0 | 1, last);
        polls++;
        const state = stateOf(answer);
        if (state) last = state;
        if (state === "COMPLETED" || answer === undefined) break;
        if (Date.now() >= until) {
          rec.violations.push({
            operationId: "getStatus",
            rule: "not-completed",
            path: "$.status",
            message: `still ${last ?? "unknown"} after ${timeoutMs} ms`,
          });
          break;
        }
        if (typeof answer === "object") rec.notes.push(`rate limited; waited ${answer.rateLimited} ms`);
        await sleep(typeof answer === "object" ? answer.rateLimited : pollIntervalMs, options.signal);
      }
      rec.notes.push(`${polls} status call${polls === 1 ? "" : "s"}`);
    });

    if (last !== "COMPLETED") skipped("result", endpoint, "skipped: the job never reached COMPLETED");
    else {
      await timed("result", endpoint, async (rec) => {
        const ex = await send(rec, "getResult", "GET", queueUrl(endpoint, id));
        if (ex.failed) return;
        checkOutput(rec, "getResult", ex, input);
      });
    }
  }

  // --- a second job, cancelled ----------------------------------------------------------------
  if (skip.has("cancel")) skipped("cancel", undefined, "skipped by option");
  else if (chosen.length === 0) skipped("cancel", undefined, "skipped: no endpoint chosen");
  else if (!cancelBudget) skipped("cancel", probe, overBudget);
  else {
    await timed("cancel", probe, async (rec) => {
      const id = await acceptedSubmit(rec, probe, inputFor(probe, "contract check: a job to cancel"));
      if (!id) return;
      const cancelled = await send(rec, "cancelRequest", "PUT", queueUrl(probe, id, "cancel"));
      if (cancelled.failed) return;
      const state = (cancelled.body as { status?: unknown } | null)?.status;
      rec.notes.push(`cancel answered ${cancelled.status} ${String(state)}`);
      if (cancelled.status === 404) {
        rec.violations.push({
          operationId: "cancelRequest",
          status: 404,
          rule: "owner-app-path",
          path: "$",
          message: `cancel on ${requestPath(probe, id, "cancel")} answered 404 for a request just submitted`,
        });
      }
    });
  }

  // --- the sync host ----------------------------------------------------------------------------
  if (syncBaseUrl === undefined) {
    // Not part of the run; nothing to report.
  } else if (skip.has("sync run")) skipped("sync run", probe, "skipped by option");
  else if (!syncBudget) skipped("sync run", probe, overBudget);
  else {
    await timed("sync run", probe, async (rec) => {
      const input = inputFor(probe, "contract check: a small blue square");
      const checked = validateInput(probe, input);
      if (!checked.ok) {
        rec.violations.push({ rule: "request-invalid", path: "$", message: formatIssues(checked.issues) });
      }
      imagesRequested += 1;
      const operationId = registry[probe].syncOperationId as OperationId;
      const ex = await send(rec, operationId, "POST", `${syncBaseUrl}/${probe}`, input);
      if (ex.failed) return;
      checkOutput(rec, operationId, ex, input);
    });
  }

  const passed = checks.filter((c) => c.ok && !c.skipped).length;
  const failed = checks.filter((c) => !c.ok).length;
  const report: ContractReport = {
    baseUrl,
    endpoints: chosen,
    checks,
    imagesRequested,
    maxImages,
    passed,
    failed,
    skipped: checks.filter((c) => c.skipped).length,
    durationMs: Date.now() - started,
  };
  if (syncBaseUrl) report.syncBaseUrl = syncBaseUrl;
  return report;

  // --- helpers that need the run's state ------------------------------------------------------

  function checkOutput(rec: Recorder, operationId: OperationId, ex: Exchange, input: Record<string, unknown>) {
    if (ex.status !== 200) {
      rec.violations.push({
        operationId,
        status: ex.status,
        rule: "result-failed",
        path: "$",
        message: `a small valid job answered ${ex.status}: ${describeErrorBody(ex.body ?? ex.text, 80) || truncate(ex.text, 80)}`,
      });
      return;
    }
    const images = (ex.body as { images?: unknown } | null)?.images;
    if (Array.isArray(images) && images.length !== input.num_images) {
      rec.violations.push({
        operationId,
        status: 200,
        rule: "image-count",
        path: "$.images",
        message: `${images.length} images for num_images ${String(input.num_images)}`,
      });
    }
  }

  async function readStream(rec: Recorder, url: string, endpoint: EndpointId, requestId: string, previous?: string) {
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (authorization) headers.authorization = authorization;
    const controller = new AbortController();
    const stop = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", stop, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`no COMPLETED event within ${timeoutMs} ms`)), timeoutMs);
    let last = previous;
    try {
      const response = await doFetch(url, { headers, signal: controller.signal });
      const base = { operationId: "streamStatus" as const, status: response.status };
      const type = response.headers.get("content-type") ?? "";
      if (response.status !== 200 || !type.includes("text/event-stream") || !response.body) {
        const text = await response.text();
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {}
        rec.violations.push(...validateResponse("streamStatus", response.status, body, response.headers));
        if (response.status === 404) {
          rec.violations.push({
            ...base,
            rule: "owner-app-path",
            path: "$",
            message: "the status stream answered 404 for a request just submitted",
          });
        }
        return { last };
      }
      let index = 0;
      let completed = false;
      const parser = createParser({
        onEvent(message) {
          const path = `$[${index++}]`;
          let event: unknown;
          try {
            event = JSON.parse(message.data);
          } catch {
            rec.violations.push({
              ...base,
              rule: "invalid-json",
              path,
              message: `event is not JSON: ${truncate(message.data, 80)}`,
            });
            return;
          }
          // Each event is checked alone, so a bad one is named by its index in the stream.
          for (const v of validateResponse("streamStatus", 200, [event], response.headers)) {
            rec.violations.push({ ...v, path: v.path.replace(/^\$\[0\]/, path) });
          }
          rec.violations.push(...checkQueueUrls(event, urlContext(endpoint, requestId), base, path));
          const state = (event as { status?: unknown } | null)?.status;
          rec.violations.push(...checkProgress(last, state, base, `${path}.status`));
          if (typeof state === "string") last = state;
          if (state === "COMPLETED") completed = true;
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      while (!completed) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      // Stop reading once COMPLETED arrived: a server that keeps the stream open is not our concern.
      await reader.cancel().catch(() => {});
      rec.notes.push(`${index} event${index === 1 ? "" : "s"}`);
      if (!completed) {
        rec.violations.push({
          ...base,
          rule: "stream-closed-early",
          path: "$",
          message: `the stream ended after ${last ?? "no"} event, before COMPLETED`,
        });
      }
      return { last };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const timedOut = controller.signal.aborted;
      rec.violations.push({
        operationId: "streamStatus",
        rule: timedOut ? "not-completed" : "network-error",
        path: "$",
        message: timedOut ? `no COMPLETED event within ${timeoutMs} ms` : errorText(error),
      });
      return { last };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", stop);
    }
  }
}

// A hostile or confused server must not be able to stall a run with a huge Retry-After.
const RETRY_AFTER_CAP_MS = 60_000;

/** `Retry-After` (seconds or an HTTP date) in milliseconds, capped; undefined when absent or unreadable. */
function retryAfterMs(headers: Headers): number | undefined {
  const ms = parseRetryAfter(headers.get("retry-after"));
  return ms === undefined ? undefined : Math.min(ms, RETRY_AFTER_CAP_MS);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

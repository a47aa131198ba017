/**
 * A tiny fal-like queue, correct by default, with one switch per way a server can break the
 * protocol. The runner must pass the correct one cleanly and name each breakage.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { endpoints, validateInput } from "@kontext-sdk/schema";

export interface Breakage {
  /** URLs and status/result/cancel on the full endpoint path instead of owner/app. */
  statusOnFullPath?: boolean;
  /** The submit answer has no request_id. */
  missingRequestId?: boolean;
  /** IN_QUEUE answered with 200. */
  okWhileQueued?: boolean;
  /** Output images without `url`. */
  imageWithoutUrl?: boolean;
  /** A 422 in another shape than fal's `{detail:[{loc,msg,type}]}`. */
  other422Shape?: boolean;
  /** Returned URLs on another origin. */
  foreignOrigin?: boolean;
  /** The result is served while the job is still queued. */
  resultBeforeCompleted?: boolean;
  /** Not a breakage: the first N status polls answer the documented 429 with `Retry-After: 0`. */
  rateLimitStatus?: number;
  /**
   * Not a breakage, fal's own timing: any JSON body is accepted at submit, the job ends COMPLETED with
   * `error`/`error_type` on its status, and the result answers the 422 (fal's queue docs).
   */
  validateAtResult?: boolean;
  /** Not a breakage: a cancel for an unknown id answers fal's flat 404 `{detail}`, like status and result. */
  flatCancel404?: boolean;
  /** Not a breakage: the submit answer holds only what fal's docs show (request_id and the three URLs). */
  minimalSubmit?: boolean;
  /** Not a breakage: output image fields fal's toolkit declares optional come as `null`. */
  nullImageFields?: boolean;
  /** Not a breakage (fal does not promise it): the result's x-fal-request-id names another id. */
  otherResultRequestId?: string;
  /** Broken: the invalid input is accepted, COMPLETED, and its result is a 200 with an output. */
  invalidInputSucceeds?: boolean;
}

/** A server that behaves the way fal documents it (as opposed to the mock's historic choices). */
export const FAL_LIKE: Breakage = { validateAtResult: true, flatCancel404: true, minimalSubmit: true, nullImageFields: true };

interface Job {
  endpoint: string;
  calls: number;
  input: Record<string, unknown>;
  /** Field errors found by "the model" (fal validates after submit). */
  invalid?: { loc: (string | number)[]; msg: string; type: string }[];
}

const STATES = ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"] as const;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export function createFakeFal(breakage: Breakage = {}) {
  const jobs = new Map<string, Job>();
  let counter = 0;

  const urls = (origin: string, job: Job, id: string) => {
    const host = breakage.foreignOrigin ? "https://queue.fal.run" : origin;
    const app = breakage.statusOnFullPath ? job.endpoint : endpoints[job.endpoint as keyof typeof endpoints].appPath;
    const base = `${host}/${app}/requests/${id}`;
    return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
  };

  const statusBody = (origin: string, id: string, job: Job, state: (typeof STATES)[number], logs: boolean) => ({
    status: state,
    request_id: id,
    ...urls(origin, job, id),
    ...(state === "IN_QUEUE" ? { queue_position: 0 } : {}),
    ...(state === "COMPLETED" ? { metrics: { inference_time: 0.1 } } : {}),
    ...(state === "COMPLETED" && job.invalid ? { error: "Unprocessable input", error_type: "validation_error" } : {}),
    logs: logs && state !== "IN_QUEUE" ? [{ message: "working", level: "INFO", timestamp: new Date(0).toISOString() }] : null,
  });

  const stateOf = (job: Job) => STATES[Math.min(job.calls, 2)]!;

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = decodeURIComponent(url.pathname).replace(/^\/+/, "");
    if (request.method === "POST" && path in endpoints) {
      const input = (await request.json()) as Record<string, unknown>;
      const checked = validateInput(path, input);
      const detail = checked.ok
        ? undefined
        : checked.issues.map((i) => ({ loc: ["body", ...i.path.split("/").filter(Boolean)], msg: i.message, type: i.rule }));
      const atResult = breakage.validateAtResult || breakage.invalidInputSucceeds;
      if (!checked.ok && !atResult) {
        if (breakage.other422Shape) return json(422, { error: "invalid input", fields: checked.issues.map((i) => i.field) });
        return json(422, { detail });
      }
      const id = `fake-${++counter}`;
      const job: Job = { endpoint: path, calls: 0, input };
      if (detail && !breakage.invalidInputSucceeds) job.invalid = detail;
      jobs.set(id, job);
      const body: Record<string, unknown> = breakage.minimalSubmit
        ? { request_id: id, ...urls(url.origin, job, id) }
        : { status: "IN_QUEUE", request_id: id, queue_position: 0, ...urls(url.origin, job, id) };
      if (breakage.missingRequestId) delete body.request_id;
      return json(200, body);
    }
    const match = /^(.+)\/requests\/([^/]+)(\/status(?:\/stream)?|\/cancel)?$/.exec(path);
    const job = match ? jobs.get(match[2]!) : undefined;
    const id = match?.[2] ?? "";
    const expectedApp =
      job && (breakage.statusOnFullPath ? job.endpoint : endpoints[job.endpoint as keyof typeof endpoints].appPath);
    if (!match || !job || match[1] !== expectedApp) {
      if (match?.[3] === "/cancel" && !breakage.flatCancel404) return json(404, { status: "NOT_FOUND" });
      return json(404, { detail: "Request not found" });
    }
    const action = match[3];
    if (action === "/status") {
      if (breakage.rateLimitStatus && breakage.rateLimitStatus-- > 0) {
        return new Response(JSON.stringify({ detail: "Too many requests", error_type: "rate_limited" }), {
          status: 429,
          headers: { "content-type": "application/json", "retry-after": "0" },
        });
      }
      const state = stateOf(job);
      job.calls++;
      const code = state === "COMPLETED" || (state === "IN_QUEUE" && breakage.okWhileQueued) ? 200 : 202;
      return json(code, statusBody(url.origin, id, job, state, url.searchParams.get("logs") === "1"));
    }
    if (action === "/status/stream") {
      const events: string[] = [];
      while (stateOf(job) !== "COMPLETED") {
        events.push(`data: ${JSON.stringify(statusBody(url.origin, id, job, stateOf(job), true))}\n\n`);
        job.calls++;
      }
      events.push(`data: ${JSON.stringify(statusBody(url.origin, id, job, "COMPLETED", true))}\n\n`);
      return new Response(events.join(""), { status: 200, headers: { "content-type": "text/event-stream" } });
    }
    if (action === "/cancel") {
      if (stateOf(job) === "COMPLETED") return json(400, { status: "ALREADY_COMPLETED" });
      job.calls = 2;
      return json(202, { status: "CANCELLATION_REQUESTED" });
    }
    if (stateOf(job) !== "COMPLETED" && !breakage.resultBeforeCompleted) {
      return json(400, { detail: "Request is still in progress", error_type: "request_in_progress" });
    }
    if (job.invalid) return json(422, { detail: job.invalid });
    const count = Number(job.input.num_images ?? 1);
    const size = breakage.nullImageFields
      ? { width: null, height: null, content_type: null, file_name: null, file_size: null }
      : { width: 16, height: 16, content_type: "image/png" };
    const images = Array.from({ length: count }, (_, i) =>
      breakage.imageWithoutUrl ? size : { url: `${url.origin}/files/${id}/${i}.png`, ...size },
    );
    const output = json(200, {
      images,
      timings: { inference: 0.1 },
      seed: 7,
      has_nsfw_concepts: images.map(() => false),
      prompt: String(job.input.prompt),
    });
    if (breakage.otherResultRequestId) output.headers.set("x-fal-request-id", breakage.otherResultRequestId);
    return output;
  };

  /** A fetch that never leaves the process, for `runContract({ fetch })`. */
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) =>
    handler(new Request(input, init))) as typeof globalThis.fetch;
  return { handler, fetch, jobs };
}

/** Serves a fetch-style handler (a fake fal, or a test's own) over loopback HTTP, so a runner's real `fetch` reads the answers. */
export async function serve(handler: (request: Request) => Promise<Response>) {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const response = await handler(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

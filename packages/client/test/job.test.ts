/**
 * The job handle against a scripted queue (test/helpers.ts): start, resume, cancel, memoised results,
 * and the rule that nothing keeps polling after an error.
 */
import { describe, expect, it } from "vitest";
import { KontextApiError, KontextCancelledError, KontextError, KontextValidationError } from "../src/index.js";
import { APP, client, falQueue, json, output, type Recorded, submitted } from "./helpers.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const input = { prompt: "a fox" };
const route = (c: Recorded) => `${c.method} ${new URL(c.url).pathname.replace("/fal-ai/flux-pro/requests/", "…/")}`;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A promise and the function that resolves it, to hold an answer back until the test lets it go. */
function gate<T>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("client.start", () => {
  it("submits at once, returns synchronously, and follows the job to its result", async () => {
    const q = falQueue({ id: "j1" });
    const job = client(q.fetch).start(T2I, input);
    expect(job.endpoint).toBe(T2I);
    expect(typeof job.result).toBe("function");
    expect(await job.requestId).toBe("j1");
    expect(q.calls.map(route)).toEqual([`POST /${T2I}`]);
    const seen: string[] = [];
    for await (const status of job.statuses()) seen.push(status.status);
    expect(seen).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(await job.result()).toEqual({ data: output, requestId: "j1" });
    await job.done;
    expect(q.calls.map(route)).toEqual([`POST /${T2I}`, "GET …/j1/status/stream", "GET …/j1"]);
  });

  it("fetches the result once, however often result() is called", async () => {
    const q = falQueue({ id: "j2" });
    const job = client(q.fetch).start(T2I, input);
    const [first, second] = await Promise.all([job.result(), job.result()]);
    expect(first).toEqual(second);
    expect(await job.result()).toEqual(first);
    expect(q.calls.filter((c) => route(c) === "GET …/j2")).toHaveLength(1);
  });

  it("a failed submit rejects requestId, statuses() and result() with the submit's error and settles done", async () => {
    const q = falQueue({ override: (c) => (c.method === "POST" ? json({ detail: "bad key" }, 401) : undefined) });
    const job = client(q.fetch).start(T2I, input);
    await expect(job.requestId).rejects.toMatchObject({ status: 401 });
    await expect(job.result()).rejects.toMatchObject({ status: 401 });
    await expect(job.statuses()[Symbol.asyncIterator]().next()).rejects.toMatchObject({ status: 401 });
    await expect(job.done).resolves.toBeUndefined();
    expect(q.calls).toHaveLength(1);
  });

  it("an invalid input rejects the job before anything is sent", async () => {
    const q = falQueue();
    const job = client(q.fetch).start(T2I, { prompt: 1 as never });
    await expect(job.result()).rejects.toBeInstanceOf(KontextValidationError);
    await job.done;
    expect(q.calls).toHaveLength(0);
  });
});

describe("client.job (resume by id)", () => {
  it("never submits, and reads the job where the id says", async () => {
    const q = falQueue({ id: "old" });
    const job = client(q.fetch).job(T2I, "old");
    expect(await job.requestId).toBe("old");
    expect(await job.result()).toEqual({ data: output, requestId: "old" });
    expect(q.calls.map(route)).toEqual(["GET …/old/status/stream", "GET …/old"]);
  });

  it("polls at once when resumed in poll mode (no status known yet)", async () => {
    const q = falQueue({ statuses: [{ status: "COMPLETED" }] });
    const job = client(q.fetch).job(T2I, "r", { mode: "poll", pollInterval: 60_000 });
    expect((await job.result()).data).toEqual(output);
    expect(q.calls.map(route)).toEqual(["GET …/r/status", "GET …/r"]);
  });

  it("an unknown id (404) ends with a typed error, and nothing polls after it", async () => {
    const q = falQueue({ override: () => json({ detail: "Request not found" }, 404) });
    const job = client(q.fetch).job(T2I, "missing");
    const error = await job.result().catch((e) => e);
    expect(error).toBeInstanceOf(KontextApiError);
    expect(error).toMatchObject({ status: 404, requestId: "missing" });
    // The stream's 404 may only mean "no stream here": one status poll confirms, then it stops.
    expect(q.calls.map(route)).toEqual(["GET …/missing/status/stream", "GET …/missing/status"]);
    await settle();
    await expect(job.result()).rejects.toBe(error);
    await expect(job.statuses()[Symbol.asyncIterator]().next()).rejects.toBe(error);
    await job.done;
    expect(q.calls).toHaveLength(2);
  });

  it.each([401, 403])("a %i on the stream ends at once: no polling", async (code) => {
    const q = falQueue({ override: () => json({ detail: "no" }, code) });
    const job = client(q.fetch).job(T2I, "r");
    await expect(job.result()).rejects.toMatchObject({ status: code });
    await settle();
    expect(q.calls.map(route)).toEqual(["GET …/r/status/stream"]);
  });

  it("aborting one wait stops its requests and leaves the job resumable", async () => {
    const q = falQueue({ statuses: [{ status: "IN_QUEUE", queue_position: 1 }, { status: "COMPLETED" }] });
    const job = client(q.fetch).job(T2I, "r", { mode: "poll", pollInterval: 1 });
    const controller = new AbortController();
    const reason = new Error("page closed");
    const first = job.result({ signal: controller.signal });
    controller.abort(reason);
    await expect(first).rejects.toBe(reason);
    const count = q.calls.length;
    await settle();
    expect(q.calls).toHaveLength(count);
    expect((await job.result()).data).toEqual(output);
  });
});

describe("job.cancel", () => {
  it("before the id is known: cancels as soon as the submit answers; result() rejects with KontextCancelledError", async () => {
    const answer = gate<Response>();
    const q = falQueue({ override: (c) => (c.method === "POST" ? answer.promise : undefined) });
    const job = client(q.fetch).start(T2I, input);
    const result = job.result();
    const cancelled = job.cancel();
    expect(q.calls.map(route)).toEqual([]);
    answer.open(json(submitted("c1")));
    await cancelled;
    const error = await result.catch((e) => e);
    expect(error).toBeInstanceOf(KontextCancelledError);
    expect(error).toBeInstanceOf(KontextError);
    expect(error.requestId).toBe("c1");
    expect(q.calls.map(route)).toEqual([`POST /${T2I}`, "PUT …/c1/cancel"]);
    await job.done;
    await expect(job.result()).rejects.toBeInstanceOf(KontextCancelledError);
    expect(q.calls).toHaveLength(2);
  });

  it("while following: stops the stream and sends one cancel", async () => {
    const q = falQueue({
      id: "c2",
      override: (c) =>
        c.url.endsWith("/stream")
          ? new Response(
              new ReadableStream({
                start: (s) => s.enqueue(new TextEncoder().encode('data: {"status":"IN_QUEUE","queue_position":0}\n\n')),
              }),
              {
                headers: { "content-type": "text/event-stream" },
              },
            )
          : undefined,
    });
    const job = client(q.fetch).start(T2I, input);
    const seen: string[] = [];
    const following = (async () => {
      for await (const status of job.statuses()) {
        seen.push(status.status);
        void job.cancel();
      }
    })();
    await expect(following).rejects.toBeInstanceOf(KontextCancelledError);
    await job.cancel();
    expect(seen).toEqual(["IN_QUEUE"]);
    expect(q.calls.filter((c) => c.method === "PUT")).toHaveLength(1);
  });

  it("a submit that fails leaves nothing to cancel", async () => {
    const q = falQueue({ override: (c) => (c.method === "POST" ? json({ detail: "down" }, 503) : undefined) });
    const job = client(q.fetch, { retry: false }).start(T2I, input);
    await expect(job.cancel()).resolves.toBeUndefined();
    await job.done;
    expect(q.calls.map((c) => c.method)).toEqual(["POST"]);
  });
});

describe("errors at the result (issue 14)", () => {
  const detail = [{ loc: ["body", "image_url"], msg: "Could not load the image", type: "image_load_error" }];

  it.each([
    ["array", { detail }, "image_url"],
    ["string", { detail: "Prompt is too long" }, ""],
  ])("a 422 with a %s detail → KontextValidationError with the asked id and X-Fal-Retryable", async (_, body, field) => {
    const q = falQueue({
      id: "v1",
      statuses: [{ status: "COMPLETED", error: "Input validation failed", error_type: "validation_error" }],
      result: () => json(body, 422, { "x-fal-request-id": "gateway-id", "x-fal-retryable": "false" }),
    });
    const error = await client(q.fetch)
      .subscribe(T2I, input)
      .catch((e) => e);
    expect(error).toBeInstanceOf(KontextValidationError);
    expect(error).toMatchObject({ status: 422, requestId: "v1", retryable: false });
    expect(error.issues[0].field).toBe(field);
    expect(error.statusError).toBe("Input validation failed");
    expect(error.message).toContain("Input validation failed");
  });

  it("a COMPLETED status with an error still fetches the result, which may succeed", async () => {
    const q = falQueue({ id: "w1", statuses: [{ status: "COMPLETED", error: "warning only" }] });
    expect(await client(q.fetch).subscribe(T2I, input, { mode: "poll", pollInterval: 1 })).toEqual({
      data: output,
      requestId: "w1",
    });
  });

  it("a 500 at the result carries the status's error text too", async () => {
    const q = falQueue({
      statuses: [{ status: "COMPLETED", error: "runner crashed", error_type: "runner_server_error" }],
      result: () => json({ detail: [{ loc: ["body"], msg: "model failed", type: "internal" }] }, 500),
    });
    const error = await client(q.fetch)
      .job(T2I, "r")
      .result()
      .catch((e) => e);
    expect(error).toBeInstanceOf(KontextApiError);
    expect(error.message).toContain("model failed");
    expect(error.message).toContain("runner crashed");
    expect(error.requestId).toBe("r");
  });

  it("subscribe and result() report the id they asked about, not the answer's x-fal-request-id", async () => {
    const q = falQueue({ id: "asked", result: () => json(output, 200, { "x-fal-request-id": "gateway-own-id" }) });
    expect((await client(q.fetch).subscribe(T2I, input)).requestId).toBe("asked");
    expect((await client(q.fetch).result(T2I, "asked")).requestId).toBe("asked");
    expect((await client(q.fetch).job(T2I, "asked").result()).requestId).toBe("asked");
  });

  it("a 403 for a locked account reads as what it is", async () => {
    const q = falQueue({
      override: () =>
        json({ detail: "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing." }, 403),
    });
    const error = await client(q.fetch)
      .submit(T2I, input)
      .catch((e) => e);
    expect(error).toBeInstanceOf(KontextApiError);
    expect(error).toMatchObject({ status: 403, retryable: false });
    expect(error.message).toMatch(
      /^POST \/fal-ai\/flux-pro\/kontext\/text-to-image: fal refused the call: the account is locked \(Exhausted balance.*\)\. Top up or unlock it at fal\.ai, then retry\.$/,
    );
  });
});

describe("subscribe is start() + statuses() + result()", () => {
  it("keeps the request order of a plain subscribe", async () => {
    const q = falQueue({ id: "s1" });
    await client(q.fetch).subscribe(T2I, input);
    expect(q.calls.map(route)).toEqual([`POST /${T2I}`, "GET …/s1/status/stream", "GET …/s1"]);
    expect(q.calls[1]!.url).toBe(`${APP}/s1/status/stream`);
  });
});

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { KontextError } from "@kontext-sdk/schema/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createManualClock, KontextMockError } from "../src/index.js";
import type { KontextMock } from "../src/mock.js";
import { type MockServer, startMockServer } from "../src/server.js";
import { JSON_HEADERS, KEY, specChecker, T2I } from "./helpers.js";

const checker = specChecker();
afterAll(() => expect(checker.violations).toEqual([]));

let server: MockServer | undefined;

/** Waits (real time) until `check` holds. */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function call(url: string, init: RequestInit = {}) {
  const r = await fetch(url, { ...init, headers: { ...JSON_HEADERS, ...(init.headers as Record<string, string>) } });
  await checker.check(url, init.method ?? "GET", r.clone());
  return r;
}

describe("startMockServer", () => {
  it("listens on a free loopback port and serves the whole lifecycle with its own URLs", async () => {
    const clock = createManualClock();
    server = await startMockServer({ port: 0, clock, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 100 } });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    const submitted = await (
      await call(`${server.url}/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "loop", output_format: "png" }) })
    ).json();
    expect(submitted.status_url).toBe(`${server.url}/fal-ai/flux-pro/requests/${submitted.request_id}/status`);
    expect((await call(submitted.status_url)).status).toBe(202);
    clock.advance(200);
    expect((await call(`${submitted.status_url}?logs=1`)).status).toBe(200);
    const out = await (await call(submitted.response_url)).json();
    const file = await fetch(out.images[0].url);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(Number(file.headers.get("content-length"))).toBe(out.images[0].file_size);
    expect((await file.arrayBuffer()).byteLength).toBe(out.images[0].file_size);
    expect((await call(submitted.cancel_url, { method: "PUT" })).status).toBe(400);
    expect(server.mock.requests.map((r) => r.operation)).toEqual(["submit", "status", "status", "result", "files", "cancel"]);
  });

  it("serves sync runs under /sync and answers errors in fal's shapes", async () => {
    server = await startMockServer({ clock: createManualClock() });
    const run = await call(`${server.url}/sync/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "sync" }) });
    expect(run.status).toBe(200);
    expect((await call(`${server.url}/sync/${T2I}`, { method: "POST", body: "{oops" })).status).toBe(422);
    expect(
      (await call(`${server.url}/sync/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x", num_images: 9 }) })).status,
    ).toBe(422);
    // Like fal, a submit takes any JSON: the job refuses it, at its result.
    const accepted = await call(`${server.url}/${T2I}`, { method: "POST", body: JSON.stringify({ prompt: "x", num_images: 9 }) });
    expect(accepted.status).toBe(200);
    expect(server.mock.jobs.get((await accepted.json()).request_id)?.failure?.status).toBe(422);
    expect((await call(`${server.url}/${T2I}`, { method: "POST", headers: { authorization: "" }, body: "{}" })).status).toBe(401);
    const missing = await fetch(`${server.url}/nowhere`);
    expect([missing.status, await missing.json()]).toEqual([404, { detail: "Not Found", error_type: "not_found" }]);
  });

  it("streams server-sent events as the clock moves and closes after COMPLETED", async () => {
    const clock = createManualClock();
    server = await startMockServer({ clock, timeline: { queueSteps: 2, progressSteps: 2, stepMs: 100 } });
    const { status_url } = await (await call(`${server.url}/${T2I}`, { method: "POST", body: '{"prompt":"sse"}' })).json();
    const r = await fetch(`${status_url}/stream?logs=1`, { headers: KEY });
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    const statuses: string[] = [];
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const blocks = buffer.split("\n\n");
      buffer = blocks.pop()!;
      for (const block of blocks) {
        const event = JSON.parse(block.replace(/^data: /, ""));
        statuses.push(event.status);
        // Only once an event has crossed the socket does time move on: the stream is truly incremental.
        clock.advance(100);
      }
    }
    expect(statuses).toEqual(["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]);
  });

  it("stream events are spec-valid (real time, short steps)", async () => {
    server = await startMockServer({ timeline: { queueSteps: 1, progressSteps: 2, stepMs: 20 } });
    const { status_url } = await (await call(`${server.url}/${T2I}`, { method: "POST", body: '{"prompt":"sse"}' })).json();
    const r = await call(`${status_url}/stream?logs=1`);
    // How many events arrive depends on scheduling; the last one is always COMPLETED.
    const events = (await r.text()).split("\n\n").filter(Boolean);
    expect(JSON.parse(events.at(-1)!.slice(6)).status).toBe("COMPLETED");
  });

  it("destroys the socket for a connection-reset fault", async () => {
    server = await startMockServer({ clock: createManualClock(), faults: [{ kind: "reset", times: 1 }] });
    const error = await fetch(`${server.url}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: '{"prompt":"x"}' }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((await fetch(`${server.url}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: '{"prompt":"x"}' })).status).toBe(
      200,
    );
  });

  it("breaks the connection when the status stream drops part-way", async () => {
    const clock = createManualClock();
    server = await startMockServer({ clock, faults: [{ kind: "stream-drop", afterEvents: 1 }] });
    const { status_url } = await (await call(`${server.url}/${T2I}`, { method: "POST", body: '{"prompt":"x"}' })).json();
    const r = await fetch(`${status_url}/stream`, { headers: KEY });
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{"status":"IN_QUEUE"/);
    clock.advance(200);
    await expect(reader.read()).rejects.toThrow();
  });

  it("serves status codes, Retry-After and HTML faults as written", async () => {
    server = await startMockServer({
      clock: createManualClock(),
      faults: [
        { kind: "status", status: 429, retryAfter: 2, operation: "submit", times: 1 },
        { kind: "html", operation: "status", times: 1 },
      ],
    });
    const limited = await call(`${server.url}/${T2I}`, { method: "POST", body: '{"prompt":"x"}' });
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "2"]);
    const html = await fetch(`${server.url}/fal-ai/flux-pro/requests/x/status`, { headers: KEY });
    expect([html.status, html.headers.get("content-type")]).toEqual([502, "text/html; charset=utf-8"]);
  });

  it("answers CORS preflights for browser apps on localhost without recording them", async () => {
    server = await startMockServer({ clock: createManualClock() });
    const pre = await fetch(`${server.url}/${T2I}`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(pre.headers.get("access-control-allow-headers")).toBe("authorization,content-type");
    const r = await call(`${server.url}/${T2I}`, {
      method: "POST",
      body: '{"prompt":"x"}',
      headers: { origin: "http://localhost:5173" },
    });
    expect(r.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(r.headers.get("access-control-expose-headers")).toContain("x-fal-request-id");
    expect(server.mock.requests.map((q) => q.method)).toEqual(["POST"]);
  });

  it("closes with a stream still open", async () => {
    const s = await startMockServer({ clock: createManualClock() });
    const { status_url } = await (await call(`${s.url}/${T2I}`, { method: "POST", body: '{"prompt":"x"}' })).json();
    const r = await fetch(`${status_url}/stream`, { headers: KEY });
    const reader = r.body!.getReader();
    await reader.read();
    await s.close();
    // The open stream must end (cleanly or not) rather than keep the server alive.
    const outcome = await reader.read().then(
      (x) => (x.done ? "done" : "data"),
      () => "error",
    );
    expect(["done", "error"]).toContain(outcome);
  });

  it("aborts the handler's request.signal when the client goes away: a latency fault stops waiting", async () => {
    const clock = createManualClock();
    server = await startMockServer({ clock, faults: [{ kind: "latency", ms: 60_000 }] });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/fal-ai/flux-pro/requests/unknown/status`, { headers: KEY, signal: controller.signal });
    await until(() => clock.pendingTimers === 1, "the fault waits");
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await until(() => clock.pendingTimers === 0, "the fault's timer is cancelled");
    expect(server.mock.requests.map((r) => r.operation)).toEqual(["status"]);
  });

  it("hands the handler a web Request whose signal, and its clone's, follow the connection", async () => {
    let seen: { request: Request; clone: Request } | undefined;
    const handler = (request: Request) =>
      new Promise<Response>((resolve) => {
        seen = { request, clone: request.clone() };
        request.signal.addEventListener("abort", () => resolve(new Response(null, { status: 499 })), { once: true });
      });
    const mock = Object.assign(handler, { handler, reset: () => {} }) as unknown as KontextMock;
    server = await startMockServer({ mock });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/anything?x=1`, { headers: { ...KEY, "x-probe": "yes" }, signal: controller.signal });
    await until(() => seen !== undefined, "the handler is called");
    const { request, clone } = seen!;
    expect(request).toBeInstanceOf(Request);
    expect([request.method, request.url, request.headers.get("x-probe")]).toEqual(["GET", `${server.url}/anything?x=1`, "yes"]);
    expect([clone.url, clone.headers.get("x-probe"), clone.signal.aborted, request.signal.aborted]).toEqual([
      request.url,
      "yes",
      false,
      false,
    ]);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await until(() => request.signal.aborted, "the signal aborts");
    expect(clone.signal.aborted).toBe(true);
    expect(request.signal.reason).toMatchObject({ name: "AbortError" });
  });
});

describe("startMockServer listen failures", () => {
  it("a port in use rejects with a KontextMockError saying so, not Node's listen EADDRINUSE", async () => {
    server = await startMockServer({ port: 0 });
    const error = await startMockServer({ port: server.port }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KontextMockError);
    expect(error).toBeInstanceOf(KontextError);
    expect((error as KontextMockError).option).toBe("port");
    expect((error as Error).message).toBe(
      `startMockServer: port ${server.port} on 127.0.0.1 is already in use (EADDRINUSE): pick another with port / --port`,
    );
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
  });

  it.each([70_000, -1, Number.NaN])("port %s rejects with a KontextMockError naming the range", async (port) => {
    const error = await startMockServer({ port }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KontextMockError);
    expect((error as Error).message).toBe(`startMockServer: port must be a whole number from 0 to 65535 (got ${port})`);
  });
});

describe("kontext-mock bin", () => {
  it("starts on the requested port and answers", async () => {
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", bin, "--port", "0", "--step", "10", "--auth", "any"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      const r = await fetch(`${url}/${T2I}`, { method: "POST", body: '{"prompt":"bin"}' });
      expect(r.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("--validate-at submit answers an invalid input with the 422 at once", async () => {
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", bin, "--port", "0", "--validate-at", "submit", "--concurrency-limit", "2"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          const m = /listening on (http:\/\/\S+)[\s\S]*input validated at: submit/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      const r = await fetch(`${url}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: '{"prompt":"bin","num_images":9}' });
      expect(r.status).toBe(422);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it.each([
    [["--validate-at", "later"], '--validate-at must be "result" or "submit"'],
    [["--cors", "everyone"], '--cors must be "localhost", "*" or "off"'],
    [["--concurrency-limit", "0"], "--concurrency-limit must be a number between 1"],
  ])("rejects %j", async (args, message) => {
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(2);
    expect(err).toContain(message);
  });

  it("a port in use exits 1 with one readable line, not a stack trace", async () => {
    server = await startMockServer({ port: 0 });
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", bin, "--port", String(server.port)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(1);
    expect(err).toBe(
      `kontext-mock: startMockServer: port ${server.port} on 127.0.0.1 is already in use (EADDRINUSE): pick another with port / --port\n`,
    );
    expect(err).not.toContain("    at ");
  });

  it("rejects bad options", async () => {
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", bin, "--fail-rate", "2"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(2);
    expect(err).toContain("--fail-rate must be a number between 0 and 1");
  });
});

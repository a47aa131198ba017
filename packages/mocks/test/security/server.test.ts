/**
 * Issue 15 (13): the mock server on a developer's machine. It binds loopback, answers browsers only from
 * localhost origins (unless opened), refuses oversize bodies without buffering them, answers a garbage
 * `Host` or request target with a 400 (not a 500), and keeps a bounded log without whole bodies.
 */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/index.js";
import { type MockServer, startMockServer } from "../../src/server.js";
import { JSON_HEADERS, T2I } from "../helpers.js";

let server: MockServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Sends raw bytes and returns the status line and body of the answer. */
function rawRequest(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
    });
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
      resolve({ status, body: received.slice(received.indexOf("\r\n\r\n") + 4) });
    });
    socket.on("error", reject);
  });
}

/** A body of `size` bytes streamed in 1 MiB chunks of one reused buffer (the sender keeps nothing). */
function streamedBody(size: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

const memory = () => {
  const usage = process.memoryUsage();
  return usage.rss;
};

describe("the mock server's defaults", () => {
  it("binds loopback only", async () => {
    server = await startMockServer({ clock: createManualClock() });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The socket itself is on loopback, not on every interface.
    const reachable = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(reachable.status).toBe(200);
  });

  it("answers localhost origins, and refuses (403, not recorded) a web page from elsewhere", async () => {
    server = await startMockServer({ clock: createManualClock() });
    const submit = (origin: string) =>
      fetch(`${server!.url}/${T2I}`, { method: "POST", headers: { ...JSON_HEADERS, origin }, body: '{"prompt":"x"}' });
    const local = await submit("http://127.0.0.1:5173");
    expect([local.status, local.headers.get("access-control-allow-origin")]).toEqual([200, "http://127.0.0.1:5173"]);
    const foreign = await submit("https://evil.example");
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    expect(await foreign.json()).toMatchObject({ error_type: "origin_not_allowed" });
    const preflight = await fetch(`${server.url}/${T2I}`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
    expect(server.mock.requests).toHaveLength(1);
    expect(server.mock.jobs.size).toBe(1);
  });

  it('cors: "*" opens it to any origin', async () => {
    server = await startMockServer({ clock: createManualClock(), cors: "*" });
    const response = await fetch(`${server.url}/${T2I}`, {
      method: "POST",
      headers: { ...JSON_HEADERS, origin: "https://app.example" },
      body: '{"prompt":"x"}',
    });
    expect([response.status, response.headers.get("access-control-allow-origin")]).toEqual([200, "*"]);
  });

  it("answers loopback Host names only (a DNS-rebound page gets a 403), unless allowedHosts adds names", async () => {
    server = await startMockServer({ clock: createManualClock() });
    const rebound = await rawRequest(
      server.port,
      "GET /.well-known/jwks.json HTTP/1.1\r\nHost: evil.example:4010\r\nConnection: close\r\n\r\n",
    );
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error_type: "host_not_allowed" });
    for (const name of ["localhost:4010", "127.0.0.1", "[::1]:4010"]) {
      const local = await rawRequest(
        server.port,
        `GET /.well-known/jwks.json HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`,
      );
      expect(local.status).toBe(200);
    }
    await server.close();
    server = await startMockServer({ clock: createManualClock(), allowedHosts: ["mock.internal"] });
    const named = await rawRequest(
      server.port,
      "GET /.well-known/jwks.json HTTP/1.1\r\nHost: mock.internal\r\nConnection: close\r\n\r\n",
    );
    expect(named.status).toBe(200);
  });

  it("answers a garbage Host, a protocol-relative or an absolute request target with a 400", async () => {
    server = await startMockServer({ clock: createManualClock() });
    const garbageHost = await rawRequest(server.port, "GET /x HTTP/1.1\r\nHost: exa mple\r\nConnection: close\r\n\r\n");
    const hostWithPath = await rawRequest(server.port, "GET /x HTTP/1.1\r\nHost: evil.example/path\r\nConnection: close\r\n\r\n");
    const protocolRelative = await rawRequest(
      server.port,
      `GET //evil.example/fal-ai/flux-pro/requests/x/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    const absolute = await rawRequest(
      server.port,
      "GET http://evil.example/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    for (const answer of [garbageHost, hostWithPath, protocolRelative, absolute]) {
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error_type: "bad_request" });
    }
  });

  /** Sends a 100 MB body and returns the answer and the peak memory growth meanwhile. */
  async function send100MB(url: string, declared: boolean) {
    const size = 100 * 1024 * 1024;
    const before = memory();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, memory());
    }, 5);
    try {
      const answer = await fetch(`${url}/${T2I}`, {
        method: "POST",
        headers: declared ? { ...JSON_HEADERS, "content-length": String(size) } : JSON_HEADERS,
        body: streamedBody(size),
        duplex: "half",
      } as RequestInit);
      return { answer, growth: peak - before };
    } finally {
      clearInterval(sampler);
    }
  }

  it("refuses a declared 100 MB body with a 413 before reading it (< 20 MB memory growth)", async () => {
    server = await startMockServer({ clock: createManualClock() });
    const { answer, growth } = await send100MB(server.url, true);
    expect(answer.status).toBe(413);
    expect(await answer.json()).toEqual({
      detail: "the request body is larger than 20971520 bytes",
      error_type: "request_too_large",
    });
    expect(growth).toBeLessThan(20 * 1024 * 1024);
    expect(server.mock.jobs.size).toBe(0);
  });

  it("refuses a streamed (chunked) 100 MB body once it passes the cap, keeping no more than the cap", async () => {
    // The cap bounds what is held while reading: a 4 MiB cap keeps the growth well under 20 MB.
    server = await startMockServer({ clock: createManualClock(), maxBodyBytes: 4 * 1024 * 1024 });
    const { answer, growth } = await send100MB(server.url, false);
    expect(answer.status).toBe(413);
    expect(answer.headers.get("x-fal-error-type")).toBe("request_too_large");
    expect(growth).toBeLessThan(20 * 1024 * 1024);
    // The connection is still good for the next request.
    expect((await fetch(`${server.url}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: '{"prompt":"x"}' })).status).toBe(
      200,
    );
  });

  it("the handler itself (mock.fetch, MSW) applies the same cap", async () => {
    server = await startMockServer({ clock: createManualClock(), maxBodyBytes: 1024 });
    const answer = await server.mock.fetch(`http://mock.test/${T2I}`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ prompt: "x".repeat(2048) }),
    });
    expect(answer.status).toBe(413);
    expect(server.mock.requests.at(-1)).toMatchObject({ bodyBytes: expect.any(Number), body: undefined });
  });

  it("keeps a bounded log without whole bodies", async () => {
    server = await startMockServer({ clock: createManualClock(), maxRecordedRequests: 3 });
    const prompt = "a".repeat(2 * 1024 * 1024);
    for (let index = 0; index < 5; index++) {
      const response = await fetch(`${server.url}/${T2I}`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ prompt }),
      });
      expect(response.status).toBe(200);
    }
    expect(server.mock.requests).toHaveLength(3);
    for (const entry of server.mock.requests) {
      expect(entry.bodyBytes).toBeGreaterThan(2 * 1024 * 1024);
      expect(entry.bodyTruncated).toBe(true);
      expect(JSON.stringify(entry).length).toBeLessThan(64 * 1024);
      expect((entry.body as { prompt: string }).prompt).toMatch(/^a{256}… \(2097152 characters\)$/);
    }
  });
});

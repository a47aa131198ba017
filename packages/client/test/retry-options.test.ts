/**
 * The client's `retry` option decides what is retried, on real loopback sockets: `statuses` narrows and
 * widens the built-in list for queue calls, fal's `x-fal-retryable` wins over it, and storage's signed-URL
 * PUTs follow the same option (`false`, `maxRetries`, `statuses`) instead of a fixed three tries.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createKontextClient, createKontextRawClient, type KontextClientOptions } from "../src/index.js";
import { MULTIPART_THRESHOLD_BYTES } from "../src/storage.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const KEY = "key-id:retry-options-secret-1234";
const STATUS_PATH = "/fal-ai/flux-pro/requests/r/status";

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What the server saw: one entry per request, method and path (query dropped). */
interface Seen {
  method: string;
  path: string;
}

/** Answers `reply(request, index among requests to the same path)`; anything unscripted is a 404. */
type Reply = (seen: Seen, index: number) => Answer | undefined;

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

/** A scripted HTTP server on 127.0.0.1 that reads every body whole before answering (so a 503 is a 503, not a reset). */
async function scripted(reply: Reply): Promise<{ origin: string; seen: Seen[]; count: (path: string) => number }> {
  const seen: Seen[] = [];
  const count = (path: string) => seen.filter((entry) => entry.path === path).length;
  const server = createServer(async (req, res) => {
    await drain(req);
    const entry = { method: req.method ?? "GET", path: new URL(req.url ?? "/", "http://x").pathname };
    seen.push(entry);
    const answer = reply(entry, count(entry.path) - 1) ?? { status: 404, body: { detail: "not scripted" } };
    const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(text);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, seen, count };
}

async function drain(req: IncomingMessage) {
  for await (const _chunk of req) {
    // Read and dropped: only the count of requests matters here.
  }
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** A client on the loopback server (queue and storage alike) with the real fetch and fast backoff. */
const clientOn = (origin: string, retry: KontextClientOptions["retry"]) =>
  createKontextClient({
    credentials: KEY,
    baseUrl: origin,
    storageBaseUrl: origin,
    retry: retry === false ? false : { baseDelay: 1, maxDelay: 5, ...retry },
  });

const completed = { status: 200, body: { status: "COMPLETED", request_id: "r", logs: [] } };

describe("retry.statuses and x-fal-retryable decide what the transport retries", () => {
  it("statuses [429] does not retry a 503 (the built-in list no longer leaks in); the default still does", async () => {
    const narrow = await scripted(() => ({ status: 503, body: { detail: "unavailable" } }));
    await expect(clientOn(narrow.origin, { statuses: [429] }).status(T2I, "r")).rejects.toMatchObject({
      name: "KontextApiError",
      status: 503,
      // The error's own field keeps its meaning: a 503 is worth asking again, whatever this client retries.
      retryable: true,
    });
    expect(narrow.count(STATUS_PATH)).toBe(1);

    const byDefault = await scripted(() => ({ status: 503, body: { detail: "unavailable" } }));
    await expect(clientOn(byDefault.origin, { maxRetries: 2 }).status(T2I, "r")).rejects.toMatchObject({ status: 503 });
    expect(byDefault.count(STATUS_PATH)).toBe(3);
  });

  it("statuses [429] still retries a 429 and stops at maxRetries", async () => {
    const server = await scripted(() => ({ status: 429, body: { detail: "slow down" }, headers: { "retry-after": "0" } }));
    await expect(clientOn(server.origin, { statuses: [429], maxRetries: 2 }).status(T2I, "r")).rejects.toMatchObject({
      status: 429,
    });
    expect(server.count(STATUS_PATH)).toBe(3);
  });

  it("statuses [429, 500] retries a 500 until it succeeds", async () => {
    const server = await scripted((_, index) => (index < 2 ? { status: 500, body: { detail: "oops" } } : completed));
    const status = await clientOn(server.origin, { statuses: [429, 500] }).status(T2I, "r");
    expect(status.status).toBe("COMPLETED");
    expect(server.count(STATUS_PATH)).toBe(3);
  });

  it("x-fal-retryable: false stops a 429 on status and on submit, even when statuses lists 429", async () => {
    const refuse = { status: 429, body: { detail: "quota" }, headers: { "x-fal-retryable": "false" } };
    const server = await scripted(() => refuse);
    const client = clientOn(server.origin, { statuses: [429, 503] });
    await expect(client.status(T2I, "r")).rejects.toMatchObject({ status: 429, retryable: false });
    expect(server.count(STATUS_PATH)).toBe(1);
    await expect(client.submit(T2I, { prompt: "x" })).rejects.toMatchObject({ status: 429, retryable: false });
    expect(server.count(`/${T2I}`)).toBe(1);
  });

  it("x-fal-retryable: true retries a status the options leave out", async () => {
    const server = await scripted((_, index) =>
      index < 1 ? { status: 500, body: { detail: "runner lost" }, headers: { "x-fal-retryable": "true" } } : completed,
    );
    const status = await clientOn(server.origin, { statuses: [429] }).status(T2I, "r");
    expect(status.status).toBe("COMPLETED");
    expect(server.count(STATUS_PATH)).toBe(2);
  });

  it("the raw client follows the same rule: x-fal-retryable: true retried, statuses [429] stops a 503", async () => {
    const flaky = await scripted((_, index) =>
      index < 1 ? { status: 500, body: { detail: "runner lost" }, headers: { "x-fal-retryable": "true" } } : completed,
    );
    const raw = (origin: string) =>
      createKontextRawClient({ credentials: KEY, baseUrl: origin, retry: { baseDelay: 1, maxDelay: 5, statuses: [429] } });
    const params = { path: { request_id: "r" } };
    const answered = await raw(flaky.origin).GET("/fal-ai/flux-pro/requests/{request_id}/status", { params });
    expect(answered.response.status).toBe(200);
    expect(flaky.count(STATUS_PATH)).toBe(2);
    const down = await scripted(() => ({ status: 503, body: { detail: "unavailable" } }));
    const refused = await raw(down.origin).GET("/fal-ai/flux-pro/requests/{request_id}/status", { params });
    expect(refused.response.status).toBe(503);
    expect(down.count(STATUS_PATH)).toBe(1);
  });

  it("a user start-timeout (504, x-fal-request-timeout-type: user) is never retried, even when statuses lists 504", async () => {
    const server = await scripted(() => ({
      status: 504,
      body: { detail: "start timeout" },
      headers: { "x-fal-request-timeout-type": "user" },
    }));
    await expect(clientOn(server.origin, { statuses: [504] }).status(T2I, "r")).rejects.toMatchObject({ status: 504 });
    expect(server.count(STATUS_PATH)).toBe(1);
  });
});

describe("storage's signed-URL PUTs follow the client's retry option", () => {
  /** fal's storage, scripted: initiate answers signed URLs on the same server, every PUT answers `put`. */
  const storageServer = async (put: Answer) => {
    const server = await scripted((seen) => {
      if (seen.path.startsWith("/storage/upload/initiate")) {
        return {
          status: 200,
          body: { upload_url: `${server.origin}/upload/file?sig=s1`, file_url: `${server.origin}/files/file` },
        };
      }
      return seen.method === "PUT" ? put : undefined;
    });
    return server;
  };

  const puts = (seen: Seen[]) => seen.filter((entry) => entry.method === "PUT");
  const busy: Answer = { status: 503, body: { detail: "busy" } };
  // Over the multipart threshold: the first part's PUT (10 MiB) is the one that fails.
  const big = () => new Blob([new Uint8Array(MULTIPART_THRESHOLD_BYTES + 1)], { type: "image/png" });

  it("retry: false tries a part PUT once", async () => {
    const server = await storageServer(busy);
    await expect(clientOn(server.origin, false).storage.upload(big(), { fileName: "big.png" })).rejects.toMatchObject({
      name: "KontextApiError",
      status: 503,
    });
    expect(puts(server.seen).map((entry) => entry.path)).toEqual(["/upload/file/1"]);
  });

  it("maxRetries 1 tries a part PUT twice", async () => {
    const server = await storageServer(busy);
    await expect(clientOn(server.origin, { maxRetries: 1 }).storage.upload(big(), { fileName: "big.png" })).rejects.toMatchObject(
      { status: 503 },
    );
    expect(puts(server.seen).map((entry) => entry.path)).toEqual(["/upload/file/1", "/upload/file/1"]);
  });

  it("a single PUT: the default is three tries, maxRetries and statuses apply", async () => {
    const small = () => new Uint8Array([1, 2, 3]);
    const byDefault = await storageServer(busy);
    await expect(clientOn(byDefault.origin, {}).storage.upload(small(), { fileName: "x.bin" })).rejects.toMatchObject({
      status: 503,
    });
    expect(puts(byDefault.seen)).toHaveLength(3);

    const more = await storageServer(busy);
    await expect(clientOn(more.origin, { maxRetries: 4 }).storage.upload(small(), { fileName: "x.bin" })).rejects.toMatchObject({
      status: 503,
    });
    expect(puts(more.seen)).toHaveLength(5);

    const narrow = await storageServer(busy);
    await expect(
      clientOn(narrow.origin, { statuses: [429] }).storage.upload(small(), { fileName: "x.bin" }),
    ).rejects.toMatchObject({ status: 503 });
    expect(puts(narrow.seen)).toHaveLength(1);
  });
});

import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createKontextProxy, toNodeHandler } from "../src/proxy.js";
import { fakeUpstream, REQUEST_ID } from "./support/fake-upstream.js";

const KEY = "node-adapter-key-123456";
const T2I = "fal-ai/flux-pro/kontext/text-to-image";
let servers: Server[] = [];

async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handle);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  servers = [];
});

describe("toNodeHandler", () => {
  it("builds the request URL from Host (and Express's originalUrl) so the same-origin check works", async () => {
    const upstream = fakeUpstream();
    const handler = toNodeHandler(createKontextProxy({ credentials: KEY, fetch: upstream.fetch }));
    const url = await serve((req, res) => {
      // What Express does for app.use("/api/fal/proxy", ...): req.url loses the mount.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      req.url = req.url!.replace("/api/fal/proxy", "") || "/";
      void handler(req, res);
    });
    const ok = await fetch(`${url}/api/fal/proxy/fal-ai/flux-pro/requests/${REQUEST_ID}`, { headers: { origin: url } });
    expect(ok.status).toBe(200);
    const refused = await fetch(`${url}/api/fal/proxy/fal-ai/flux-pro/requests/${REQUEST_ID}`, {
      headers: { origin: "https://evil.example.com" },
    });
    expect(refused.status).toBe(403);
    expect(upstream.calls).toHaveLength(1);
  });

  it("trusts X-Forwarded-Proto/Host only when told to", async () => {
    const upstream = fakeUpstream();
    const headers = { origin: "https://app.example.com", "x-forwarded-proto": "https", "x-forwarded-host": "app.example.com" };
    const path = `/api/fal/proxy/fal-ai/flux-pro/requests/${REQUEST_ID}`;
    const plain = toNodeHandler(createKontextProxy({ credentials: KEY, fetch: upstream.fetch }));
    const plainUrl = await serve((req, res) => void plain(req, res));
    expect((await fetch(`${plainUrl}${path}`, { headers })).status).toBe(403);
    const trusting = toNodeHandler(
      createKontextProxy({ allowedHosts: ["app.example.com"], credentials: KEY, fetch: upstream.fetch }),
      {
        trustProxy: true,
      },
    );
    const trustingUrl = await serve((req, res) => void trusting(req, res));
    const response = await fetch(`${trustingUrl}${path}`, { headers });
    expect(response.status).toBe(200);
    // Behind the reverse proxy, the socket's Host is an internal name; the forwarded host is what counts.
    const internal = await new Promise<number>((resolve, reject) => {
      const outgoing = httpRequest(`${trustingUrl}${path}`, { headers: { ...headers, host: "app-service:3000" } }, (answer) => {
        answer.resume();
        resolve(answer.statusCode ?? 0);
      });
      outgoing.on("error", reject);
      outgoing.end();
    });
    expect(internal).toBe(200);
    // Rewritten URLs use the public origin too.
    const submit = await fetch(`${trustingUrl}/api/fal/proxy/${T2I}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x" }),
    });
    expect((await submit.json()).status_url).toBe(
      `https://app.example.com/api/fal/proxy/fal-ai/flux-pro/requests/${REQUEST_ID}/status`,
    );
  });

  it("reuses a body a parser already consumed (Express's express.json())", async () => {
    const upstream = fakeUpstream();
    const handler = toNodeHandler(createKontextProxy({ credentials: KEY, fetch: upstream.fetch, authorize: () => true }));
    const url = await serve(async (req, res) => {
      let text = "";
      for await (const chunk of req) text += chunk;
      (req as IncomingMessage & { body?: unknown }).body = JSON.parse(text);
      void handler(req, res);
    });
    const response = await fetch(`${url}/api/fal/proxy/${T2I}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "parsed already", num_images: 2 }),
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(upstream.calls[0]!.body!)).toEqual({ prompt: "parsed already", num_images: 2 });
  });

  it("aborts the upstream call when the browser goes away", async () => {
    let upstreamSignal: AbortSignal | undefined;
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((resolve) => {
      upstreamAborted = resolve;
    });
    const handler = toNodeHandler(
      createKontextProxy({
        credentials: KEY,
        authorize: () => true,
        fetch: async (_input, init) => {
          upstreamSignal = init?.signal ?? undefined;
          upstreamSignal?.addEventListener("abort", () => upstreamAborted());
          // An event stream that never ends on its own.
          return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("data: {}\n\n")) }), {
            headers: { "content-type": "text/event-stream" },
          });
        },
      }),
    );
    const url = await serve((req, res) => void handler(req, res));
    const browser = new AbortController();
    const response = await fetch(`${url}/api/fal/proxy/fal-ai/flux-pro/requests/${REQUEST_ID}/status/stream`, {
      signal: browser.signal,
    });
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    expect(upstreamSignal?.aborted).toBe(false);
    browser.abort();
    await aborted;
    expect(upstreamSignal?.aborted).toBe(true);
  });

  it("passes errors to next() when the handler throws (Express)", async () => {
    const boom = new Error("boom");
    const handler = toNodeHandler(async () => {
      throw boom;
    });
    let seen: unknown;
    const url = await serve((req, res) => {
      void handler(req, res, (error) => {
        seen = error;
        res.statusCode = 500;
        res.end();
      });
    });
    expect((await fetch(url)).status).toBe(500);
    expect(seen).toBe(boom);
  });
});

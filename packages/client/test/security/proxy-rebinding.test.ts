/**
 * Issue 15, finding 5: DNS rebinding. A page at attacker.example, re-pointed at the proxy's address,
 * sends `Host: attacker.example` and `Origin: http://attacker.example`: a same-origin check built from
 * `Host` agrees with it. The proxy must judge origins against `publicUrl`/`allowedOrigins` when set, and
 * answer only for the host names it serves (`allowedHosts`, like Vite's).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createKontextProxy, type KontextProxyOptions, toNodeHandler } from "../../src/proxy.js";
import { fakeUpstream } from "../support/fake-upstream.js";
import { PROXY_KEY, pageRequest, submitRequest, VALID_INPUT } from "../support/proxy-requests.js";

const ATTACKER = "http://attacker.example:3000";

function setup(options: Partial<KontextProxyOptions> = {}) {
  const upstream = fakeUpstream();
  const refused: string[] = [];
  const proxy = createKontextProxy({
    credentials: PROXY_KEY,
    fetch: upstream.fetch,
    onRefused: (reason) => refused.push(reason),
    ...options,
  });
  return { proxy, calls: upstream.calls, refused };
}

describe("DNS rebinding (issue 15 #5)", () => {
  it("with publicUrl and allowedOrigins set, a rebound page is refused and upstream is never called", async () => {
    const { proxy, calls, refused } = setup({
      publicUrl: "https://app.example.com/api/fal/proxy",
      allowedOrigins: ["https://www.example.com"],
    });
    const response = await proxy(submitRequest(`${ATTACKER}/api/fal/proxy`, ATTACKER, VALID_INPUT));
    expect(response.status).toBe(403);
    expect((await response.json()).reason).toBe("host_not_allowed");
    expect(calls).toHaveLength(0);
    expect(refused).toEqual(["host_not_allowed"]);
  });

  it("judges Origin against publicUrl/allowedOrigins, never against Host, even with the host check off", async () => {
    const { proxy, calls } = setup({ publicUrl: "https://app.example.com/api/fal/proxy", allowedHosts: true });
    const rebound = await proxy(submitRequest(`${ATTACKER}/api/fal/proxy`, ATTACKER, VALID_INPUT));
    expect(rebound.status).toBe(403);
    expect((await rebound.json()).reason).toBe("origin_not_allowed");
    const genuine = await proxy(submitRequest("https://app.example.com/api/fal/proxy", "https://app.example.com", VALID_INPUT));
    expect(genuine.status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it("by default answers only localhost names and IP addresses: a dev server cannot be rebound", async () => {
    const { proxy, calls } = setup();
    const rebound = await proxy(submitRequest(`${ATTACKER}/api/fal/proxy`, ATTACKER, VALID_INPUT));
    expect(rebound.status).toBe(403);
    expect((await rebound.json()).reason).toBe("host_not_allowed");
    expect(calls).toHaveLength(0);
    for (const local of ["http://localhost:3000", "http://app.localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000"]) {
      expect((await proxy(submitRequest(`${local}/api/fal/proxy`, local, VALID_INPUT))).status).toBe(200);
    }
    expect(calls).toHaveLength(4);
  });

  it("allowedHosts lists names (a leading dot allows subdomains); a Host header is checked as well as the URL", async () => {
    const { proxy, calls } = setup({ allowedHosts: [".example.com"] });
    for (const origin of ["https://example.com", "https://app.example.com", "https://a.b.example.com"]) {
      expect((await proxy(submitRequest(`${origin}/api/fal/proxy`, origin, VALID_INPUT))).status).toBe(200);
    }
    expect(
      (
        await proxy(
          submitRequest(
            "https://example.com.attacker.example/api/fal/proxy",
            "https://example.com.attacker.example",
            VALID_INPUT,
          ),
        )
      ).status,
    ).toBe(403);
    const hostHeader = pageRequest("https://app.example.com/api/fal/proxy", "https://app.example.com", {
      method: "POST",
      target: "https://queue.fal.run/fal-ai/flux-pro/kontext/text-to-image",
      headers: { "content-type": "application/json", host: "attacker.example" },
      body: JSON.stringify(VALID_INPUT),
    });
    expect((await proxy(hostHeader)).status).toBe(403);
    expect(calls).toHaveLength(3);
  });

  describe("through the node adapter, over a real socket", () => {
    let server: Server | undefined;
    afterEach(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    it("refuses a request whose Host is the attacker's name", async () => {
      const { proxy, calls } = setup();
      const handle = toNodeHandler(proxy);
      server = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as AddressInfo).port;
      const { request } = await import("node:http");
      const status = await new Promise<number>((resolve, reject) => {
        const outgoing = request(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/api/fal/proxy/fal-ai/flux-pro/kontext/text-to-image",
            headers: {
              host: "attacker.example:3000",
              origin: "http://attacker.example:3000",
              "content-type": "application/json",
            },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        outgoing.on("error", reject);
        outgoing.end(JSON.stringify(VALID_INPUT));
      });
      expect(status).toBe(403);
      expect(calls).toHaveLength(0);
    });
  });
});

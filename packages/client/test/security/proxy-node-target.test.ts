/**
 * Issue 15, finding 14: the node adapter must not build the request URL from a protocol-relative or
 * absolute-form request target (`POST //evil.example/api/fal/proxy/…`), nor from a garbage `Host`: the
 * proxy would rewrite `status_url`s onto evil.example.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createKontextProxy, toNodeHandler } from "../../src/proxy.js";
import { fakeUpstream } from "../support/fake-upstream.js";
import { PROXY_KEY, T2I, VALID_INPUT } from "../support/proxy-requests.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function start() {
  const upstream = fakeUpstream();
  const handle = toNodeHandler(
    createKontextProxy({ credentials: PROXY_KEY, fetch: upstream.fetch, authorize: () => true, onRefused: () => {} }),
  );
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, calls: upstream.calls };
}

/** Sends a raw request target, exactly as given (node:http does not normalise `path`). */
function send(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: "127.0.0.1", port, method: "POST", path, headers: { host, "content-type": "application/json" } },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(JSON.stringify(VALID_INPUT));
  });
}

describe("node adapter request targets (issue 15 #14)", () => {
  it("serves an ordinary path, with rewritten URLs on its own host", async () => {
    const { port, calls } = await start();
    const answer = await send(port, `/api/fal/proxy/${T2I}`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).status_url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/api/fal/proxy/`));
    expect(calls).toHaveLength(1);
  });

  const hostile = [
    ["a protocol-relative target", `//evil.example/api/fal/proxy/${T2I}`],
    ["an absolute-form target", `http://evil.example/api/fal/proxy/${T2I}`],
    ["a backslash target", `/\\evil.example/api/fal/proxy/${T2I}`],
  ];
  for (const [what, path] of hostile) {
    it(`refuses ${what} with 400, never calling upstream`, async () => {
      const { port, calls } = await start();
      const answer = await send(port, path!);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error_type: "proxy_bad_target", reason: "bad_target" });
      expect(answer.body).not.toContain("evil.example");
      expect(calls).toHaveLength(0);
    });
  }

  it("refuses a garbage Host with 400 instead of failing with 500", async () => {
    const { port, calls } = await start();
    for (const host of ["evil.example/x", "user@evil.example", "a b"]) {
      expect((await send(port, `/api/fal/proxy/${T2I}`, host)).status).toBe(400);
    }
    expect(calls).toHaveLength(0);
  });
});

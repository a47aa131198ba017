/**
 * A key a server echoes back never reaches the output, not even in part: the CLI redacts a line
 * before it cuts it to length, so a key straddling the cut is still whole when it is recognised.
 * The fake gateway here echoes keys in a job's log line (the client passes those through as sent)
 * and in a 500 body (the client blanks only the key it sends, not others the CLI knows of).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { run, tempDir } from "./helpers.js";

/** The key sent to the gateway: long, `id:secret`. */
const SENT_KEY = "kid-4d2e91:0f1e2d3c4b5a69788796a5b4c3d2e1f0aa55";
/** A key in the environment that `--key` overrides: the client never sees it, the CLI must still hide it. */
const ENV_KEY = "env-id-77:fedcba9876543210fedcba9876543210beef";
const REQUEST_ID = "req-echo-1";

/** Text that ends just before the key, so a cut after `room` characters falls inside the key. */
const pad = (room: number, label: string) => `${label} ${"x".repeat(room - label.length - 1)}`;

/** Every 8-character window of a secret: finding any of them means a fragment of the key got out. */
function fragmentsOf(secret: string): string[] {
  return Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));
}

function expectNoFragment(output: string, secrets: string[]) {
  for (const secret of secrets) {
    for (const fragment of fragmentsOf(secret)) expect(output, `"${fragment}" of a key was printed`).not.toContain(fragment);
  }
}

let gateway: Server;
let gatewayUrl: string;

/** A queue host whose log line echoes the key it was sent and whose result fails with a 500 echoing both keys. */
function echoingGateway(req: IncomingMessage, res: ServerResponse) {
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const path = new URL(req.url ?? "/", gatewayUrl).pathname;
  const base = `${gatewayUrl}/fal-ai/flux-pro/requests/${REQUEST_ID}`;
  if (req.method === "POST") {
    req.resume();
    return json(200, { request_id: REQUEST_ID, status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel` });
  }
  // No status stream here: the client falls back to polling.
  if (path.endsWith("/status/stream")) return json(404, { detail: "not found" });
  if (path.endsWith("/status")) {
    // The progress line cuts a log line at 80 characters: the cut lands 12 characters into the secret half.
    const message = `${pad(80 - SENT_KEY.length + 32 - 12, "auth")}${SENT_KEY}`;
    return json(200, { status: "COMPLETED", logs: [{ message, level: "INFO", timestamp: "2026-11-28T00:00:00Z" }] });
  }
  if (path.endsWith("/cancel")) return json(200, { status: "ALREADY_COMPLETED" });
  // The error line is cut at 400 characters; the body's detail follows `API error: HTTP 500 - `.
  const prefix = "API error: HTTP 500 - ";
  const detail = `${pad(400 - prefix.length - ENV_KEY.length + 20, "echo:")}${ENV_KEY} and ${SENT_KEY}`;
  return json(500, { detail });
}

beforeAll(async () => {
  gateway = createServer(echoingGateway);
  await new Promise<void>((ok) => gateway.listen(0, "127.0.0.1", ok));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});
afterAll(async () => {
  gateway.closeAllConnections();
  await new Promise((ok) => gateway.close(ok));
});

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe("a key echoed by the server is redacted before any line is cut", () => {
  it("in a log line and in a 500 body, no 8-character piece of either key is printed", async () => {
    const r = await run(["generate", "a fox", "--base-url", gatewayUrl, "--key", SENT_KEY], {
      cwd: dir.path,
      env: { FAL_KEY: ENV_KEY },
    });
    expect(r.code, r.stderr).toBe(1);
    // Both lines were printed (so the check below looked at them), with the keys blanked.
    expect(r.stderr).toMatch(/log: auth x+ ?\[redacted\]/);
    expect(r.stderr).toMatch(/^error: API error: HTTP 500 - echo: x+ ?\[redacted\]/m);
    expectNoFragment(r.stdout + r.stderr, [SENT_KEY, ENV_KEY]);
  });
});

/**
 * Issue 15 (13): signed webhook deliveries from a mock on a developer's machine go to loopback targets
 * only, unless `allowWebhookHosts` (or an injected `webhookFetch`) says otherwise — no blind SSRF.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { setup, T2I } from "../helpers.js";

/** A receiver on loopback that records what it gets. */
async function loopbackReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("webhook targets", () => {
  it("with the global fetch, a non-loopback fal_webhook is a 422 at submit naming the option, and nothing is queued", async () => {
    const t = setup({}, { spec: false });
    for (const target of ["https://example.org/hook", "http://10.0.0.7/hook", "http://169.254.169.254/latest/meta-data"]) {
      const { response, body } = await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${encodeURIComponent(target)}`);
      expect(response.status).toBe(422);
      expect(body.detail).toEqual([
        expect.objectContaining({
          loc: ["query", "fal_webhook"],
          msg: expect.stringContaining("allowWebhookHosts"),
          input: target,
        }),
      ]);
    }
    expect(t.mock.jobs.size).toBe(0);
    expect(t.mock.webhooks).toEqual([]);
  });

  it("delivers, signed, to a loopback receiver", async () => {
    const receiver = await loopbackReceiver();
    try {
      const t = setup();
      const { response } = await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${encodeURIComponent(receiver.url)}`);
      expect(response.status).toBe(200);
      t.clock.advance(1_000);
      await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
      expect(receiver.received[0]!.headers["x-fal-webhook-signature"]).toMatch(/^[0-9a-f]{128}$/);
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ status: "OK" });
    } finally {
      await receiver.close();
    }
  });

  it("allowWebhookHosts lets named hosts through (and '*' any); other hosts stay refused", async () => {
    const named = setup({ allowWebhookHosts: ["hooks.example.org"] }, { spec: false });
    expect((await named.submit({ prompt: "x" }, T2I, "?fal_webhook=https://hooks.example.org/in")).response.status).toBe(200);
    expect((await named.submit({ prompt: "x" }, T2I, "?fal_webhook=https://other.example.org/in")).response.status).toBe(422);
    const any = setup({ allowWebhookHosts: "*" });
    expect((await any.submit({ prompt: "x" }, T2I, "?fal_webhook=https://anywhere.example/in")).response.status).toBe(200);
    // Nothing is delivered: the clocks never move, and the mocks are reset.
    named.mock.reset();
    any.mock.reset();
  });

  it("an injected webhookFetch delivers anywhere (the test decides where deliveries go)", async () => {
    const sent: string[] = [];
    const t = setup({
      webhookFetch: (async (input: RequestInfo | URL) => {
        sent.push(String(input));
        return new Response(null, { status: 204 });
      }) as typeof fetch,
    });
    expect((await t.submit({ prompt: "x" }, T2I, "?fal_webhook=https://example.org/hook")).response.status).toBe(200);
    t.clock.advance(1_000);
    await vi.waitFor(() => expect(sent).toEqual(["https://example.org/hook"]));
  });
});

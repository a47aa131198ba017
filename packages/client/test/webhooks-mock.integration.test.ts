/**
 * The webhook loop end to end on loopback: the client submits with `webhookUrl`, the mock server runs
 * the job and POSTs a signed delivery to a node:http receiver, which checks it with `receiveWebhook`
 * against the mock's own `/.well-known/jwks.json`.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { createKontextMock } from "@kontext-sdk/mocks";
import { startMockServer } from "@kontext-sdk/mocks/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createKontextClient } from "../src/index.js";
import { clearJwksCache, type ReceivedWebhook, receiveWebhook } from "../src/webhooks.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
  clearJwksCache();
});

/** A receiver that answers 200 to verified deliveries and 400 otherwise, keeping every outcome. */
async function startReceiver(jwksUrl: string) {
  const received: ReceivedWebhook<typeof T2I>[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const outcome = await receiveWebhook(
      { headers: req.headers as IncomingHttpHeaders & Record<string, string>, body: Buffer.concat(chunks) },
      { jwksUrl, endpoint: T2I },
    );
    received.push(outcome);
    res.writeHead(outcome.ok ? 200 : 400).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fal/webhook`, received };
}

describe("signed webhooks from the mock server", () => {
  it("the delivery verifies against the mock's JWKS and parses into the job's output", async () => {
    const mockServer = await startMockServer({ timeline: { queueSteps: 1, progressSteps: 1, stepMs: 20 } });
    closers.push(() => mockServer.close());
    const receiver = await startReceiver(`${mockServer.url}/.well-known/jwks.json`);
    const kontext = createKontextClient({ credentials: "mock-key", baseUrl: mockServer.url });

    const { requestId } = await kontext.submit(T2I, { prompt: "a signed fox", seed: 7 }, { webhookUrl: receiver.url });
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5_000 });

    const [outcome] = receiver.received;
    expect(outcome).toMatchObject({ ok: true, userId: "mock-user" });
    if (!outcome?.ok) throw new Error("unreachable");
    expect(outcome.webhook).toMatchObject({ ok: true, requestId });
    const { data } = await kontext.result(T2I, requestId);
    expect(outcome.webhook.ok && outcome.webhook.payload).toEqual(data);
    expect(mockServer.mock.webhooks[0]).toMatchObject({ signed: true, status: 200 });
  });

  it("a receiver holding other keys refuses the delivery, and the mock records the 400", async () => {
    const mockServer = await startMockServer({ timeline: { queueSteps: 1, progressSteps: 1, stepMs: 20 } });
    const elsewhere = await startMockServer();
    closers.push(
      () => mockServer.close(),
      () => elsewhere.close(),
    );
    // Another mock's key: a well-formed JWKS that did not sign this delivery.
    const receiver = await startReceiver(`${elsewhere.url}/.well-known/jwks.json`);
    const kontext = createKontextClient({ credentials: "mock-key", baseUrl: mockServer.url });

    await kontext.submit(T2I, { prompt: "a forged fox" }, { webhookUrl: receiver.url });
    await vi.waitFor(() => expect(mockServer.mock.webhooks[0]?.status).toBe(400), { timeout: 5_000 });
    expect(receiver.received).toEqual([expect.objectContaining({ ok: false, reason: "signature_mismatch" })]);
  });

  it("with mock.fetch and webhookFetch, as the webhook guide shows: no server at all", async () => {
    const received: ReceivedWebhook<"fal-ai/flux-pro/kontext/max">[] = [];
    const mock = createKontextMock({
      timeline: { queueSteps: 1, progressSteps: 1, stepMs: 10 },
      webhookFetch: async (url, init) => {
        const request = new Request(url, init);
        received.push(await receiveWebhook(request, { jwks: await mock.webhookJwks(), endpoint: "fal-ai/flux-pro/kontext/max" }));
        return new Response(null, { status: 200 });
      },
    });
    const kontext = createKontextClient({ credentials: "test", fetch: mock.fetch });
    const { data, requestId } = await kontext.subscribe(
      "fal-ai/flux-pro/kontext/max",
      { prompt: "add a hat", image_url: "https://example.com/in.png" },
      { webhookUrl: "https://my-app.test/api/fal/webhook" },
    );
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(received[0]).toMatchObject({ ok: true, userId: "mock-user", webhook: { ok: true, requestId, payload: data } });
  });
});

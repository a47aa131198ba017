import { afterAll, describe, expect, it, vi } from "vitest";
import { componentSchema, QUEUE, setup, T2I, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

/** Answers each delivery with the next of `statuses` (the last one repeats). */
function receiver(...statuses: number[]) {
  if (!statuses.length) statuses.push(200);
  const calls: { url: string; headers: Headers; raw: string; body: any }[] = [];
  const webhookFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const raw = String(init?.body);
    calls.push({ url: String(input), headers: new Headers(init?.headers), raw, body: JSON.parse(raw) });
    return new Response(null, { status: statuses[Math.min(calls.length, statuses.length) - 1] });
  }) as typeof fetch;
  return { calls, webhookFetch };
}

const HOOK = "https://example.org/api/fal/webhook";
/** Waits until `count` deliveries have been answered (signing makes delivery take a few ticks). */
const delivered = (t: ReturnType<typeof setup>, count = 1) =>
  vi.waitFor(() => expect(t.mock.webhooks.filter((d) => d.status !== undefined || d.error !== undefined)).toHaveLength(count));
const validPayload = componentSchema("WebhookPayload");

describe("webhooks", () => {
  it("POSTs the OK payload to fal_webhook when the job completes, without anyone polling", async () => {
    const hook = receiver();
    const t = setup({ webhookFetch: hook.webhookFetch });
    const { body } = await t.submit({ prompt: "hook", seed: 3 }, T2I, `?fal_webhook=${encodeURIComponent(HOOK)}`);
    t.clock.advance(499);
    expect(t.mock.webhooks).toHaveLength(0);
    t.clock.advance(1);
    await delivered(t);
    expect(hook.calls).toHaveLength(1);
    const [call] = hook.calls;
    expect(call!.url).toBe(HOOK);
    expect(call!.headers.get("content-type")).toBe("application/json");
    expect(call!.body).toMatchObject({ request_id: body.request_id, gateway_request_id: body.request_id, status: "OK" });
    expect(call!.body.payload).toEqual(await (await t.call(body.response_url)).json());
    expect(validPayload(call!.body)).toBe(true);
    expect(t.mock.webhooks).toEqual([
      { url: HOOK, attempt: 1, payload: call!.body, headers: Object.fromEntries(call!.headers), signed: true, status: 200 },
    ]);
  });

  it("POSTs an ERROR payload when the result fails", async () => {
    const hook = receiver();
    const t = setup({ webhookFetch: hook.webhookFetch, faults: [{ kind: "fail-at-result" }] });
    const { body } = await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    t.clock.advance(500);
    await delivered(t);
    expect(hook.calls[0]!.body).toMatchObject({
      request_id: body.request_id,
      status: "ERROR",
      error: "Invalid status code: 422",
      payload: { detail: [expect.objectContaining({ loc: ["body", "prompt"] })] },
    });
    expect(validPayload(hook.calls[0]!.body)).toBe(true);
  });

  it("POSTs an ERROR payload at once when a running job is cancelled, and nothing for a removed queued job", async () => {
    const hook = receiver();
    const t = setup({ webhookFetch: hook.webhookFetch });
    const queued = (await t.submit({ prompt: "a" }, T2I, `?fal_webhook=${HOOK}`)).body;
    await t.call(queued.cancel_url, { method: "PUT" });
    const running = (await t.submit({ prompt: "b" }, T2I, `?fal_webhook=${HOOK}`)).body;
    t.clock.advance(250);
    await t.call(running.cancel_url, { method: "PUT" });
    t.clock.advance(10_000);
    await delivered(t);
    expect(hook.calls.map((c) => [c.body.request_id, c.body.status, c.body.error])).toEqual([
      [running.request_id, "ERROR", "Invalid status code: 400"],
    ]);
    expect(hook.calls[0]!.body.payload).toEqual({ detail: "Request was cancelled", error_type: "client_cancelled" });
    expect(t.clock.pendingTimers).toBe(0);
  });

  it("records failed deliveries without breaking the mock", async () => {
    const t = setup({
      webhookFetch: (async () => {
        throw new TypeError("fetch failed");
      }) as typeof fetch,
    });
    const { body } = await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    t.clock.advance(500);
    await delivered(t);
    expect(t.mock.webhooks[0]).toMatchObject({ url: HOOK, error: "fetch failed" });
    expect((await t.call(body.response_url)).status).toBe(200);
  });

  it("records the receiver's status", async () => {
    const hook = receiver(500);
    const t = setup({ webhookFetch: hook.webhookFetch });
    await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    t.clock.advance(500);
    await delivered(t);
    expect(t.mock.webhooks[0]!.status).toBe(500);
    // One attempt unless webhookRetry asks for more.
    t.clock.advance(60_000);
    expect(t.mock.webhooks).toHaveLength(1);
    expect(t.clock.pendingTimers).toBe(0);
  });

  it("webhookRetry: tries again on the mock's clock after a failure, re-signed, until a 2xx or the limit", async () => {
    const failing = receiver(500);
    const t = setup({ webhookFetch: failing.webhookFetch, webhookRetry: { retries: 2, delayMs: 1_000 } });
    await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    t.clock.advance(500);
    await delivered(t, 1);
    t.clock.advance(999);
    expect(t.mock.webhooks).toHaveLength(1);
    t.clock.advance(1);
    await delivered(t, 2);
    t.clock.advance(1_000);
    await delivered(t, 3);
    t.clock.advance(60_000);
    expect(t.mock.webhooks.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
    ]);
    expect(failing.calls.every((c) => c.headers.get("x-fal-webhook-signature")?.length === 128)).toBe(true);
    expect(t.clock.pendingTimers).toBe(0);

    // A receiver that recovers: no attempt after the first 2xx; a thrown fetch counts as a failure too.
    let thrown = false;
    const flaky = receiver(503, 200);
    const u = setup({
      webhookFetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        if (!thrown) {
          thrown = true;
          throw new TypeError("fetch failed");
        }
        return flaky.webhookFetch(input, init);
      }) as typeof fetch,
      webhookRetry: { retries: 5 },
    });
    await u.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    u.clock.advance(500);
    await delivered(u, 1);
    u.clock.advance(1_000);
    await delivered(u, 2);
    u.clock.advance(1_000);
    await delivered(u, 3);
    u.clock.advance(60_000);
    expect(u.mock.webhooks.map((d) => [d.attempt, d.status ?? d.error])).toEqual([
      [1, "fetch failed"],
      [2, 503],
      [3, 200],
    ]);
  });
});

const hex = (bytes: ArrayBuffer) => Buffer.from(bytes).toString("hex");

/** fal's scheme, checked by hand with WebCrypto (the client's verifyWebhook is tested against this mock too). */
async function verifies(publicKey: CryptoKey, headers: Headers, raw: string) {
  const digest = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(raw)));
  const message = ["request-id", "user-id", "timestamp"].map((h) => headers.get(`x-fal-webhook-${h}`)).join("\n");
  const signature = Buffer.from(headers.get("x-fal-webhook-signature") ?? "", "hex");
  return crypto.subtle.verify("Ed25519", publicKey, signature, new TextEncoder().encode(`${message}\n${digest}`));
}

async function completedDelivery(options: Parameters<typeof setup>[0] = {}) {
  const hook = receiver();
  const t = setup({ webhookFetch: hook.webhookFetch, ...options });
  const { body } = await t.submit({ prompt: "signed" }, T2I, `?fal_webhook=${HOOK}`);
  t.clock.advance(500);
  await delivered(t);
  return { t, call: hook.calls[0]!, requestId: body.request_id as string };
}

describe("webhook signatures", () => {
  it("signs each delivery as fal does, with the key published at /.well-known/jwks.json", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { t, call, requestId } = await completedDelivery();
    expect(call.headers.get("x-fal-webhook-request-id")).toBe(requestId);
    expect(call.headers.get("x-fal-webhook-user-id")).toBe("mock-user");
    // The wall clock, not the manual clock (2025-01-01), so a receiver's default tolerance accepts it.
    expect(Number(call.headers.get("x-fal-webhook-timestamp"))).toBeGreaterThanOrEqual(before);
    expect(call.headers.get("x-fal-webhook-signature")).toMatch(/^[0-9a-f]{128}$/);

    // Public, like fal's JWKS: no Authorization needed.
    const served = await t.mock.fetch(`${QUEUE}/.well-known/jwks.json`);
    expect(served.status).toBe(200);
    const jwks = await served.json();
    expect(jwks).toEqual(await t.mock.webhookJwks());
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: "OKP", crv: "Ed25519", kid: "kontext-mock" })]);
    const key = await crypto.subtle.importKey("jwk", jwks.keys[0], { name: "Ed25519" }, false, ["verify"]);
    expect(await verifies(key, call.headers, call.raw)).toBe(true);
    // ...and the signature covers the body: one changed byte and it no longer verifies.
    expect(await verifies(key, call.headers, call.raw.replace("signed", "Signed"))).toBe(false);
  });

  it("signs with a given key pair and user id", async () => {
    const keyPair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const { t, call } = await completedDelivery({ webhookSigning: { keyPair, userId: "user-42", keyId: "k1" } });
    expect(call.headers.get("x-fal-webhook-user-id")).toBe("user-42");
    expect(await verifies(keyPair.publicKey, call.headers, call.raw)).toBe(true);
    const { x } = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
    expect((await t.mock.webhookJwks()).keys).toEqual([expect.objectContaining({ x, kid: "k1" })]);
  });

  it("webhookSigning: false sends the delivery unsigned and publishes no key", async () => {
    const { t, call } = await completedDelivery({ webhookSigning: false });
    expect([...call.headers.keys()].sort()).toEqual(["content-type", "x-fal-webhook-request-id"]);
    expect(t.mock.webhooks[0]!.signed).toBe(false);
    expect(await t.mock.webhookJwks()).toEqual({ keys: [] });
  });
});

import type { KontextOutput } from "@kontext-sdk/schema";
import { beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import {
  clearJwksCache,
  FAL_JWKS_URL,
  parseWebhook,
  receiveWebhook,
  verifyWebhook,
  type WebhookJwks,
  WebhookPayloadError,
} from "../src/webhooks.js";

const NOW = 1_760_000_000_000;
const REQUEST_ID = "123e4567-e89b-12d3-a456-426614174000";
const USER_ID = "github|kontext";
const OUTPUT = {
  images: [{ url: "https://v3.fal.media/files/out.png", width: 1024, height: 1024, content_type: "image/png" }],
  timings: { inference: 1.22 },
  seed: 196619188014358660,
  has_nsfw_concepts: [false],
  prompt: "a cute dog",
};
const OK_BODY = JSON.stringify({ request_id: REQUEST_ID, gateway_request_id: REQUEST_ID, status: "OK", payload: OUTPUT });

async function keyPair() {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { privateKey: pair.privateKey, jwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, kid: crypto.randomUUID() } };
}

async function sha256hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Signs like fal: Ed25519 over `${requestId}\n${userId}\n${timestamp}\n${sha256hex(body)}`, hex-encoded. */
async function sign(
  privateKey: CryptoKey,
  body: string,
  { timestamp = NOW / 1000, requestId = REQUEST_ID, userId = USER_ID } = {},
) {
  const message = `${requestId}\n${userId}\n${timestamp}\n${await sha256hex(body)}`;
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, new TextEncoder().encode(message)));
  return {
    "X-Fal-Webhook-Request-Id": requestId,
    "X-Fal-Webhook-User-Id": userId,
    "X-Fal-Webhook-Timestamp": String(timestamp),
    "X-Fal-Webhook-Signature": [...signature].map((b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

function delivery(body: string, headers: Record<string, string>): Request {
  return new Request("https://app.example.com/api/fal/webhook", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const now = () => NOW;

describe("verifyWebhook", () => {
  beforeEach(() => clearJwksCache());

  it("accepts a valid signature", async () => {
    const { privateKey, jwk } = await keyPair();
    const result = await verifyWebhook(delivery(OK_BODY, await sign(privateKey, OK_BODY)), { jwks: { keys: [jwk] }, now });
    expect(result).toEqual({ ok: true, requestId: REQUEST_ID, userId: USER_ID, timestamp: NOW / 1000, body: OK_BODY });
  });

  it("accepts {headers, body} with a plain header record and byte bodies", async () => {
    const { privateKey, jwk } = await keyPair();
    const headers = Object.fromEntries(Object.entries(await sign(privateKey, OK_BODY)).map(([k, v]) => [k.toLowerCase(), v]));
    const bytes = new TextEncoder().encode(OK_BODY);
    expect((await verifyWebhook({ headers, body: bytes }, { jwks: { keys: [jwk] }, now })).ok).toBe(true);
    expect((await verifyWebhook({ headers, body: bytes.buffer }, { jwks: { keys: [jwk] }, now })).ok).toBe(true);
  });

  it("tries every key: one match among several is enough", async () => {
    const signer = await keyPair();
    const others = await Promise.all([keyPair(), keyPair()]);
    const jwks: WebhookJwks = {
      keys: [
        { kty: "RSA", n: "x", e: "AQAB" },
        others[0]!.jwk,
        { kty: "OKP", crv: "Ed25519", x: "not-a-key" },
        signer.jwk,
        others[1]!.jwk,
      ],
    };
    expect((await verifyWebhook(delivery(OK_BODY, await sign(signer.privateKey, OK_BODY)), { jwks, now })).ok).toBe(true);
  });

  it("rejects a tampered body", async () => {
    const { privateKey, jwk } = await keyPair();
    const headers = await sign(privateKey, OK_BODY);
    const tampered = OK_BODY.replace("out.png", "evil.png");
    const result = await verifyWebhook(delivery(tampered, headers), { jwks: { keys: [jwk] }, now });
    expect(result).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });

  it("rejects a changed header (request id, user id or timestamp are signed too)", async () => {
    const { privateKey, jwk } = await keyPair();
    const headers = await sign(privateKey, OK_BODY);
    for (const [name, value] of [
      ["X-Fal-Webhook-Request-Id", "another-request"],
      ["X-Fal-Webhook-User-Id", "someone-else"],
      ["X-Fal-Webhook-Timestamp", String(NOW / 1000 + 1)],
    ] as const) {
      const result = await verifyWebhook(delivery(OK_BODY, { ...headers, [name]: value }), { jwks: { keys: [jwk] }, now });
      expect(result).toMatchObject({ ok: false, reason: "signature_mismatch" });
    }
  });

  it("rejects an old timestamp, and one too far in the future", async () => {
    const { privateKey, jwk } = await keyPair();
    const old = await sign(privateKey, OK_BODY, { timestamp: NOW / 1000 - 301 });
    expect(await verifyWebhook(delivery(OK_BODY, old), { jwks: { keys: [jwk] }, now })).toMatchObject({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
    const future = await sign(privateKey, OK_BODY, { timestamp: NOW / 1000 + 301 });
    expect((await verifyWebhook(delivery(OK_BODY, future), { jwks: { keys: [jwk] }, now })).ok).toBe(false);
    // Inside the window, and a wider window on request.
    const recent = await sign(privateKey, OK_BODY, { timestamp: NOW / 1000 - 299 });
    expect((await verifyWebhook(delivery(OK_BODY, recent), { jwks: { keys: [jwk] }, now })).ok).toBe(true);
    expect((await verifyWebhook(delivery(OK_BODY, old), { jwks: { keys: [jwk] }, now, toleranceSeconds: 600 })).ok).toBe(true);
  });

  it("rejects a signature from an unknown key", async () => {
    const fal = await keyPair();
    const stranger = await keyPair();
    const result = await verifyWebhook(delivery(OK_BODY, await sign(stranger.privateKey, OK_BODY)), {
      jwks: { keys: [fal.jwk] },
      now,
    });
    expect(result).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });

  it("rejects missing headers, malformed timestamps and signatures, and a foreign user id", async () => {
    const { privateKey, jwk } = await keyPair();
    const headers = await sign(privateKey, OK_BODY);
    const opts = { jwks: { keys: [jwk] }, now };
    const { "X-Fal-Webhook-Signature": _, ...unsigned } = headers;
    expect(await verifyWebhook(delivery(OK_BODY, unsigned), opts)).toMatchObject({ reason: "missing_headers" });
    expect(await verifyWebhook(delivery(OK_BODY, { ...headers, "X-Fal-Webhook-Timestamp": "soon" }), opts)).toMatchObject({
      reason: "invalid_timestamp",
    });
    expect(
      await verifyWebhook(
        delivery(OK_BODY, { ...headers, "X-Fal-Webhook-Signature": headers["X-Fal-Webhook-Signature"].slice(2) }),
        opts,
      ),
    ).toMatchObject({ reason: "invalid_signature_format" });
    expect(await verifyWebhook(delivery(OK_BODY, headers), { ...opts, userId: "me" })).toMatchObject({ reason: "user_mismatch" });
    expect((await verifyWebhook(delivery(OK_BODY, headers), { ...opts, userId: USER_ID })).ok).toBe(true);
    expect(await verifyWebhook(delivery(OK_BODY, headers), { jwks: { keys: [] }, now })).toMatchObject({
      reason: "no_usable_keys",
    });
  });

  it("fetches fal's JWKS once and caches it for the TTL", async () => {
    const { privateKey, jwk } = await keyPair();
    const fetched: string[] = [];
    const fetch = (async (url: string | URL | Request) => {
      fetched.push(String(url));
      return Response.json({ keys: [jwk] });
    }) as typeof globalThis.fetch;
    let clock = NOW;
    const opts = { fetch, now: () => clock };
    const sendAt = async (t: number) => {
      clock = t;
      const body = OK_BODY;
      return verifyWebhook(delivery(body, await sign(privateKey, body, { timestamp: Math.floor(t / 1000) })), opts);
    };
    expect((await sendAt(NOW)).ok).toBe(true);
    expect((await sendAt(NOW + 30 * 60_000)).ok).toBe(true);
    expect(fetched).toEqual([FAL_JWKS_URL]);
    expect((await sendAt(NOW + 61 * 60_000)).ok).toBe(true);
    expect(fetched).toHaveLength(2);
  });

  it("refetches the JWKS when fal has rotated its key, at most once per 30 s cool-down", async () => {
    const before = await keyPair();
    const after = await keyPair();
    let current = before.jwk;
    let fetches = 0;
    const fetch = (async () => {
      fetches++;
      return Response.json({ keys: [current] });
    }) as unknown as typeof globalThis.fetch;
    let clock = NOW;
    const opts = { fetch, now: () => clock };
    expect((await verifyWebhook(delivery(OK_BODY, await sign(before.privateKey, OK_BODY)), opts)).ok).toBe(true);
    current = after.jwk;
    // Within the cool-down a failure does not refetch (forgeries cannot drive JWKS traffic).
    clock = NOW + 20_000;
    const soon = await sign(after.privateKey, OK_BODY, { timestamp: clock / 1000 });
    expect((await verifyWebhook(delivery(OK_BODY, soon), opts)).ok).toBe(false);
    expect(fetches).toBe(1);
    clock = NOW + 31_000;
    const later = await sign(after.privateKey, OK_BODY, { timestamp: clock / 1000 });
    expect((await verifyWebhook(delivery(OK_BODY, later), opts)).ok).toBe(true);
    expect(fetches).toBe(2);
  });

  it("reports an unreachable JWKS as jwks_unavailable (answer 5xx so fal retries)", async () => {
    const { privateKey } = await keyPair();
    const fetch = (async () => new Response("down", { status: 503 })) as unknown as typeof globalThis.fetch;
    const result = await verifyWebhook(delivery(OK_BODY, await sign(privateKey, OK_BODY)), { fetch, now });
    expect(result).toMatchObject({ ok: false, reason: "jwks_unavailable" });
  });

  it("takes the keys from a function", async () => {
    const { privateKey, jwk } = await keyPair();
    const result = await verifyWebhook(delivery(OK_BODY, await sign(privateKey, OK_BODY)), {
      jwks: async () => ({ keys: [jwk] }),
      now,
    });
    expect(result.ok).toBe(true);
  });
});

describe("parseWebhook", () => {
  it("parses a success into a typed output", () => {
    const parsed = parseWebhook(OK_BODY, { endpoint: "fal-ai/flux-pro/kontext/max" });
    expect(parsed).toMatchObject({ ok: true, requestId: REQUEST_ID, gatewayRequestId: REQUEST_ID, payload: OUTPUT });
    if (parsed.ok) expectTypeOf(parsed.payload).toEqualTypeOf<KontextOutput>();
  });

  it("parses an error with fal's 422 detail", () => {
    const body = {
      request_id: REQUEST_ID,
      gateway_request_id: "retried-id",
      status: "ERROR",
      error: "Invalid status code: 422",
      payload: { detail: [{ loc: ["body", "image_url"], msg: "Could not download the image", type: "image_load_error" }] },
    };
    const parsed = parseWebhook(JSON.stringify(body));
    expect(parsed).toEqual({
      ok: false,
      requestId: REQUEST_ID,
      gatewayRequestId: "retried-id",
      error: "Invalid status code: 422",
      payload: body.payload,
      payloadError: undefined,
      raw: body,
    });
  });

  it("parses a payload_error (payload null)", () => {
    const parsed = parseWebhook({
      request_id: REQUEST_ID,
      status: "ERROR",
      error: "Invalid status code: 500",
      payload: null,
      payload_error: "Response payload is not JSON serializable",
    });
    expect(parsed).toMatchObject({ ok: false, payload: null, payloadError: "Response payload is not JSON serializable" });
  });

  it("keeps an error payload of an unexpected shape", () => {
    const parsed = parseWebhook({ request_id: REQUEST_ID, status: "ERROR", error: "boom", payload: { message: "odd" } });
    expect(parsed).toMatchObject({ ok: false, error: "boom", payload: { message: "odd" } });
  });

  it("accepts bytes", () => {
    expect(parseWebhook(new TextEncoder().encode(OK_BODY)).ok).toBe(true);
  });

  it("throws on bodies that are not fal webhooks", () => {
    expect(() => parseWebhook("{oops")).toThrow(WebhookPayloadError);
    expect(() => parseWebhook({ status: "OK" })).toThrow(/request_id/);
    expect(() => parseWebhook({ request_id: REQUEST_ID, status: "DONE" })).toThrow(WebhookPayloadError);
    // OK with an output that is not a Kontext output: the caller would store garbage.
    expect(() => parseWebhook({ request_id: REQUEST_ID, status: "OK", payload: { images: "nope" } })).toThrow(
      WebhookPayloadError,
    );
    const error = (() => {
      try {
        parseWebhook({ request_id: 5, status: "OK" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(WebhookPayloadError);
    expect((error as WebhookPayloadError).issues[0]).toMatchObject({ field: "request_id", rule: "type" });
  });
});

describe("receiveWebhook", () => {
  it("verifies then parses", async () => {
    const { privateKey, jwk } = await keyPair();
    const result = await receiveWebhook(delivery(OK_BODY, await sign(privateKey, OK_BODY)), { jwks: { keys: [jwk] }, now });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.webhook).toMatchObject({ ok: true, payload: OUTPUT });
  });

  it("refuses a forged delivery before parsing, and a signed one that is not a webhook", async () => {
    const { privateKey, jwk } = await keyPair();
    const forged = await receiveWebhook(delivery(OK_BODY, await sign(privateKey, "{}")), { jwks: { keys: [jwk] }, now });
    expect(forged).toMatchObject({ ok: false, reason: "signature_mismatch" });
    const junk = '{"hello":"world"}';
    const signedJunk = await receiveWebhook(delivery(junk, await sign(privateKey, junk)), { jwks: { keys: [jwk] }, now });
    expect(signedJunk).toMatchObject({ ok: false, reason: "invalid_payload" });
  });
});

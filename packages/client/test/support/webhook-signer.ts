/** Signs webhook deliveries the way fal does, for verification tests (a key pair made per call). */

export const WEBHOOK_NOW = 1_760_000_000_000;
export const WEBHOOK_REQUEST_ID = "123e4567-e89b-12d3-a456-426614174000";
export const WEBHOOK_USER_ID = "github|kontext";
export const WEBHOOK_OK_BODY = JSON.stringify({
  request_id: WEBHOOK_REQUEST_ID,
  gateway_request_id: WEBHOOK_REQUEST_ID,
  status: "OK",
  payload: {
    images: [{ url: "https://v3.fal.media/files/out.png", width: 1024, height: 1024, content_type: "image/png" }],
    timings: { inference: 1.22 },
    seed: 42,
    has_nsfw_concepts: [false],
    prompt: "a cute dog",
  },
});

export async function webhookKeyPair() {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { privateKey: pair.privateKey, jwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, kid: crypto.randomUUID() } };
}

const hex = (bytes: Uint8Array) => [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");

/** The four `X-Fal-Webhook-*` headers for `body`, signed with `privateKey` at `timestamp` (seconds). */
export async function signDelivery(
  privateKey: CryptoKey,
  body: string,
  { timestamp = WEBHOOK_NOW / 1000, requestId = WEBHOOK_REQUEST_ID, userId = WEBHOOK_USER_ID } = {},
): Promise<Record<string, string>> {
  const digest = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))));
  const message = new TextEncoder().encode(`${requestId}\n${userId}\n${timestamp}\n${digest}`);
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, message));
  return {
    "x-fal-webhook-request-id": requestId,
    "x-fal-webhook-user-id": userId,
    "x-fal-webhook-timestamp": String(timestamp),
    "x-fal-webhook-signature": hex(signature),
  };
}

/** Headers that look signed (right form, current timestamp) but carry 64 zero bytes: a forgery. */
export function forgedHeaders(timestamp = WEBHOOK_NOW / 1000): Record<string, string> {
  return {
    "x-fal-webhook-request-id": WEBHOOK_REQUEST_ID,
    "x-fal-webhook-user-id": WEBHOOK_USER_ID,
    "x-fal-webhook-timestamp": String(timestamp),
    "x-fal-webhook-signature": "0".repeat(128),
  };
}

export function webhookDelivery(body: BodyInit, headers: Record<string, string>, init: RequestInit = {}): Request {
  return new Request("https://app.example.com/api/fal/webhook", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    ...init,
  } as RequestInit);
}

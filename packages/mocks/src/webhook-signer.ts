/**
 * Signing `fal_webhook` deliveries the way fal does, so a receiver's verification can be tested end to
 * end: Ed25519 over the core's `webhookSignedMessage` (`${requestId}\n${userId}\n${timestamp}\n${sha256hex(body)}`),
 * sent in the core's `WEBHOOK_HEADERS`, with the public key published as a JWKS. WebCrypto only (Node 20+,
 * browsers with Ed25519, workers), and the key pair is made on first use, so a mock that never delivers a
 * webhook never pays for it.
 */
import { toHex, WEBHOOK_HEADERS, webhookSignedMessage } from "@kontext-sdk/schema/protocol";

export interface WebhookSigningOptions {
  /** The `X-Fal-Webhook-User-Id` sent with every delivery (default `"mock-user"`). */
  userId?: string;
  /** An Ed25519 key pair to sign with (default: one generated per mock). */
  keyPair?: CryptoKeyPair;
  /** The `kid` of the published key (default `"kontext-mock"`). */
  keyId?: string;
}

/** The JWKS a receiver verifies with; `keys[0]` is the mock's public key (`kty: "OKP"`, `crv: "Ed25519"`). */
export interface MockWebhookJwks {
  keys: { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; use: "sig"; alg: "EdDSA" }[];
}

export interface WebhookSigner {
  /** The four `x-fal-webhook-*` headers for this delivery's exact body. */
  headers(requestId: string, body: string): Promise<Record<string, string>>;
  jwks(): Promise<MockWebhookJwks>;
}

export function createWebhookSigner(options: WebhookSigningOptions = {}): WebhookSigner {
  const userId = options.userId ?? "mock-user";
  const kid = options.keyId ?? "kontext-mock";
  let pair: Promise<CryptoKeyPair> | undefined;
  const keys = () =>
    (pair ??= options.keyPair
      ? Promise.resolve(options.keyPair)
      : (crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as Promise<CryptoKeyPair>));

  return {
    async headers(requestId, body) {
      // fal signs with the time of delivery. The wall clock, not the mock's (possibly manual) clock, so a
      // receiver that checks the timestamp against its own `Date.now()` accepts the delivery.
      const timestamp = String(Math.floor(Date.now() / 1000));
      const message = await webhookSignedMessage({ requestId, userId, timestamp, body });
      const signature = await crypto.subtle.sign("Ed25519", (await keys()).privateKey, message as Uint8Array<ArrayBuffer>);
      return {
        [WEBHOOK_HEADERS.requestId]: requestId,
        [WEBHOOK_HEADERS.userId]: userId,
        [WEBHOOK_HEADERS.timestamp]: timestamp,
        [WEBHOOK_HEADERS.signature]: toHex(signature),
      };
    },
    async jwks() {
      const { x } = await crypto.subtle.exportKey("jwk", (await keys()).publicKey);
      return { keys: [{ kty: "OKP", crv: "Ed25519", x: x!, kid, use: "sig", alg: "EdDSA" }] };
    },
  };
}

/**
 * fal's webhook signatures (docs: model-endpoints/webhooks): Ed25519 over
 * `${requestId}\n${userId}\n${timestamp}\n${sha256hex(body)}`, hex-encoded, in the `X-Fal-Webhook-*`
 * headers; keys published as a JWKS. Receivers allow ±300 s of clock skew and may cache keys for 24 h.
 */
import { sha256Hex } from "./bytes.js";

/** fal's published webhook keys (current docs; older pages and `fal_client` use rest.alpha.fal.ai). */
export const FAL_JWKS_URL = "https://rest.fal.ai/.well-known/jwks.json";

/** How far a signed timestamp may be from now, in seconds, either way. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The header names fal signs with (matched case-insensitively). */
export const WEBHOOK_HEADERS = {
  requestId: "x-fal-webhook-request-id",
  userId: "x-fal-webhook-user-id",
  timestamp: "x-fal-webhook-timestamp",
  signature: "x-fal-webhook-signature",
} as const;

/** An Ed25519 signature is 64 bytes: 128 hex digits. */
export const isSignatureHex = (value: string) => /^[0-9a-fA-F]{128}$/.test(value);

/** The fields a delivery's signature covers. */
export interface WebhookSignedFields {
  requestId: string;
  userId: string;
  /** Seconds since the epoch, as sent in the header. */
  timestamp: string;
  /** The raw body exactly as sent. */
  body: Uint8Array | string;
}

/** The exact bytes fal signs for one delivery. */
export async function webhookSignedMessage(fields: WebhookSignedFields): Promise<Uint8Array> {
  const digest = await sha256Hex(fields.body);
  return new TextEncoder().encode(`${fields.requestId}\n${fields.userId}\n${fields.timestamp}\n${digest}`);
}

/**
 * @kontext-sdk/client/webhooks — fal's webhook deliveries: signature verification (Ed25519 over the
 * request id, user id, timestamp and body hash, keys from fal's JWKS) and typed payload parsing.
 * Guide: docs/proxy-and-webhooks.md.
 */
export {
  type ParsedWebhook,
  type ParseWebhookOptions,
  parseWebhook,
  type WebhookFailure,
  WebhookPayloadError,
  type WebhookSuccess,
} from "./webhooks/parse.js";
export { type ReceivedWebhook, receiveWebhook } from "./webhooks/receive.js";
export {
  clearJwksCache,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_JWKS_TTL_MS,
  DEFAULT_WEBHOOK_MAX_BODY_BYTES,
  FAL_JWKS_URL,
  type RejectedWebhook,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  type VerifyWebhookResult,
  verifyWebhook,
  WEBHOOK_HEADERS,
  type WebhookInput,
  type WebhookJwk,
  type WebhookJwks,
  type WebhookRejection,
} from "./webhooks/verify.js";

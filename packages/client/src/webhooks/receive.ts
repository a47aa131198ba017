import type { EndpointId } from "@kontext-sdk/schema";
import { type ParsedWebhook, parseWebhook, WebhookPayloadError } from "./parse.js";
import { type RejectedWebhook, type VerifyWebhookOptions, verifyWebhook, type WebhookInput } from "./verify.js";

export type ReceivedWebhook<E extends EndpointId = EndpointId> =
  | { ok: true; webhook: ParsedWebhook<E>; userId: string; timestamp: number }
  | RejectedWebhook
  | { ok: false; reason: "invalid_payload"; message: string };

/**
 * `verifyWebhook` then `parseWebhook`, for a route that only needs the outcome:
 * `ok: true` carries the parsed delivery; otherwise `reason` says why it was refused.
 */
export async function receiveWebhook<E extends EndpointId = EndpointId>(
  input: WebhookInput,
  options: VerifyWebhookOptions & { endpoint?: E } = {},
): Promise<ReceivedWebhook<E>> {
  const verified = await verifyWebhook(input, options);
  if (!verified.ok) return verified;
  try {
    const webhook = parseWebhook<E>(verified.body, { endpoint: options.endpoint });
    return { ok: true, webhook, userId: verified.userId, timestamp: verified.timestamp };
  } catch (error) {
    if (error instanceof WebhookPayloadError) return { ok: false, reason: "invalid_payload", message: error.message };
    throw error;
  }
}

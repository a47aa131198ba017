/**
 * fal's webhook signatures: Ed25519 over `${requestId}\n${userId}\n${timestamp}\n${sha256hex(body)}`,
 * from the `X-Fal-Webhook-*` headers, with public keys from fal's JWKS. WebCrypto only, so the same
 * code runs in Node 20+, Deno, Bun, workers and edge runtimes. The signed message, header names and
 * JWKS URL are the protocol core's.
 */
import {
  FAL_JWKS_URL,
  fromHex,
  isSignatureHex,
  readCapped,
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_SECONDS,
  webhookSignedMessage,
} from "@kontext-sdk/schema/protocol";
import {
  currentKeys,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_JWKS_TTL_MS,
  importKeys,
  type KeySetSettings,
  keysAfterMismatch,
  type WebhookJwks,
} from "./key-set.js";

export {
  clearJwksCache,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_JWKS_TTL_MS,
  type WebhookJwk,
  type WebhookJwks,
} from "./key-set.js";
export { FAL_JWKS_URL, WEBHOOK_HEADERS };

/**
 * 16 MiB: the largest delivery read by default. A delivery carries the job's output; with image URLs it
 * is a few kB, and with `sync_mode` (images inline as data URIs) four 1 MP PNGs come to about 8–13 MB.
 * Larger bodies are refused (`body_too_large`) without being held. Raise it with `maxBodyBytes`.
 */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface VerifyWebhookOptions {
  /** Keys to verify with, instead of fetching fal's JWKS (tests, pinned keys, your own cache). */
  jwks?: WebhookJwks | (() => WebhookJwks | Promise<WebhookJwks>);
  /** Where to fetch the JWKS from. Default {@link FAL_JWKS_URL}. */
  jwksUrl?: string;
  /** `fetch` for the JWKS. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** How far the signed timestamp may be from now, in seconds (either way). Default 300. */
  toleranceSeconds?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /** How long a fetched JWKS is reused, in ms. Default one hour. */
  jwksTtlMs?: number;
  /**
   * The least time between two JWKS fetches, in ms, however many deliveries fail to verify (a reload is
   * tried when no cached key matches, in case fal rotated its keys). Default 30 s.
   */
  jwksCooldownMs?: number;
  /** How long a JWKS fetch may take, in ms; the last good keys are kept when it fails. Default 5 s. */
  jwksTimeoutMs?: number;
  /** The largest body read, in bytes; larger deliveries are refused with `body_too_large`. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Accept only deliveries for this fal user id (the `X-Fal-Webhook-User-Id` of your account). */
  userId?: string;
}

/** A request, or its headers and raw body when the framework already read it. */
export type WebhookInput =
  | Request
  | {
      headers: Headers | Record<string, string | readonly string[] | undefined>;
      /** The raw body exactly as received: re-serialised JSON would not match the signature. */
      body: string | Uint8Array | ArrayBuffer;
    };

export type WebhookRejection =
  | "missing_headers"
  | "invalid_timestamp"
  | "timestamp_out_of_tolerance"
  | "invalid_signature_format"
  | "user_mismatch"
  | "body_too_large"
  | "jwks_unavailable"
  | "no_usable_keys"
  | "signature_mismatch";

export interface VerifiedWebhook {
  ok: true;
  requestId: string;
  userId: string;
  /** Seconds since the epoch, as signed. */
  timestamp: number;
  /** The body as text, ready for `parseWebhook`. */
  body: string;
}

export interface RejectedWebhook {
  ok: false;
  reason: WebhookRejection;
  message: string;
}

export type VerifyWebhookResult = VerifiedWebhook | RejectedWebhook;

/**
 * Checks that a webhook delivery was signed by fal. The headers, the timestamp and the signature's form
 * are checked before the body is read, and the body is read through a size cap, so an unsigned or
 * oversized request costs next to nothing. Every key of the JWKS is tried; one match is enough.
 * Answer `jwks_unavailable` with a 5xx (fal retries the delivery) and every other rejection with a 4xx.
 * Reads the request's body; use the returned `body` afterwards. A valid delivery may arrive more than
 * once (fal retries, and a replay inside the tolerance window verifies): de-duplicate by `requestId`.
 */
export async function verifyWebhook(input: WebhookInput, options: VerifyWebhookOptions = {}): Promise<VerifyWebhookResult> {
  const now = (options.now ?? Date.now)();
  const signed = checkHeaders(headerReader(input.headers), options, now);
  if (!signed.ok) {
    if (input instanceof Request) await input.body?.cancel().catch(() => {});
    return signed;
  }
  const bytes = await readDeliveryBody(input, options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES);
  if (!bytes) return reject("body_too_large", "the delivery is larger than the receiver accepts (maxBodyBytes)");

  const { requestId, userId, timestamp, signature } = signed;
  const message = await webhookSignedMessage({ requestId, userId, timestamp, body: bytes });
  const verdict = await verifySignature(signature, message, options, now);
  if (verdict) return verdict;
  return { ok: true, requestId, userId, timestamp: Number(timestamp), body: new TextDecoder().decode(bytes) };
}

interface SignedHeaders {
  ok: true;
  requestId: string;
  userId: string;
  timestamp: string;
  signature: Uint8Array;
}

/** Everything that can be checked without the body: presence, timestamp window, signature form, user. */
function checkHeaders(
  header: (name: string) => string | undefined,
  options: VerifyWebhookOptions,
  now: number,
): SignedHeaders | RejectedWebhook {
  const requestId = header(WEBHOOK_HEADERS.requestId);
  const userId = header(WEBHOOK_HEADERS.userId);
  const timestamp = header(WEBHOOK_HEADERS.timestamp);
  const signature = header(WEBHOOK_HEADERS.signature);
  if (!requestId || !userId || !timestamp || !signature) {
    return reject(
      "missing_headers",
      "the X-Fal-Webhook-Request-Id, -User-Id, -Timestamp and -Signature headers are all required",
    );
  }
  if (!/^\d{1,15}$/.test(timestamp)) return reject("invalid_timestamp", "X-Fal-Webhook-Timestamp must be whole seconds");
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    return reject("timestamp_out_of_tolerance", `the delivery was signed more than ${tolerance} seconds from now`);
  }
  const signatureBytes = isSignatureHex(signature) ? fromHex(signature) : undefined;
  if (!signatureBytes) return reject("invalid_signature_format", "X-Fal-Webhook-Signature must be 64 bytes in hex");
  if (options.userId !== undefined && userId !== options.userId) {
    return reject("user_mismatch", "the delivery is for another fal user");
  }
  return { ok: true, requestId, userId, timestamp, signature: signatureBytes };
}

/** The raw body, or undefined when it is over the cap (a request's stream is then cancelled, not drained). */
async function readDeliveryBody(input: WebhookInput, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!(input instanceof Request)) {
    const bytes = toBytes(input.body);
    return bytes.byteLength > maxBytes ? undefined : bytes;
  }
  const read = await readCapped(input.body, maxBytes, input.headers.get("content-length"));
  return read.ok ? read.bytes : undefined;
}

/** Undefined when one of the keys verifies the signature, else the rejection. */
async function verifySignature(
  signature: Uint8Array,
  message: Uint8Array,
  options: VerifyWebhookOptions,
  now: number,
): Promise<RejectedWebhook | undefined> {
  if (options.jwks !== undefined) {
    const keys = await importKeys(typeof options.jwks === "function" ? await options.jwks() : options.jwks);
    if (keys.length === 0) return reject("no_usable_keys", "the JWKS holds no Ed25519 keys");
    if (await verifyWithAny(keys, signature, message)) return undefined;
    return reject("signature_mismatch", "the signature does not match the delivery");
  }
  const settings: KeySetSettings = {
    url: options.jwksUrl ?? FAL_JWKS_URL,
    fetch: options.fetch ?? ((url, init) => globalThis.fetch(url, init)),
    now: options.now ? () => (options.now as () => number)() : () => now,
    ttlMs: options.jwksTtlMs ?? DEFAULT_JWKS_TTL_MS,
    cooldownMs: options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
    timeoutMs: options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
  };
  const keys = await currentKeys(settings);
  if (keys === "unavailable") return reject("jwks_unavailable", "fal's webhook keys could not be fetched");
  if (keys === "no_usable_keys") return reject("no_usable_keys", "the JWKS holds no Ed25519 keys");
  if (await verifyWithAny(keys, signature, message)) return undefined;
  // No cached key matched: fal may have rotated its keys. The key set decides whether a reload is due.
  const reloaded = await keysAfterMismatch(settings, keys);
  if (reloaded && (await verifyWithAny(reloaded, signature, message))) return undefined;
  return reject("signature_mismatch", "the signature does not match the delivery");
}

async function verifyWithAny(keys: readonly CryptoKey[], signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  for (const key of keys) {
    try {
      if (await crypto.subtle.verify("Ed25519", key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>)) {
        return true;
      }
    } catch {
      // A key the runtime cannot use is skipped; another may still verify.
    }
  }
  return false;
}

function headerReader(
  headers: Headers | Record<string, string | readonly string[] | undefined>,
): (name: string) => string | undefined {
  if (headers instanceof Headers) return (name) => headers.get(name)?.trim() || undefined;
  const lower = new Map<string, string | readonly string[] | undefined>();
  for (const [name, value] of Object.entries(headers)) lower.set(name.toLowerCase(), value);
  return (name) => {
    const value = lower.get(name);
    const first = typeof value === "string" ? value : value?.[0];
    return first?.trim() || undefined;
  };
}

function toBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return new TextEncoder().encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

function reject(reason: WebhookRejection, message: string): RejectedWebhook {
  return { ok: false, reason, message };
}

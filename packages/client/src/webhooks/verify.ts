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
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_SECONDS,
  webhookSignedMessage,
} from "@kontext-sdk/schema/protocol";

export { FAL_JWKS_URL, WEBHOOK_HEADERS };

/** How long a fetched JWKS is reused. fal says keys may be cached for up to 24 hours. */
export const DEFAULT_JWKS_TTL_MS = 60 * 60 * 1000;

// After a signature fails with every cached key, the JWKS is fetched again in case fal rotated its
// keys, but not more often than this, so forged deliveries cannot turn into a stream of JWKS fetches.
const MIN_REFRESH_MS = 5 * 60 * 1000;

export interface WebhookJwk {
  kty?: string;
  crv?: string;
  /** The raw public key, base64url. */
  x?: string;
  kid?: string;
  [member: string]: unknown;
}

export interface WebhookJwks {
  keys: WebhookJwk[];
}

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
 * Checks that a webhook delivery was signed by fal. Every key of the JWKS is tried; one match is
 * enough. Answer `jwks_unavailable` with a 5xx (fal retries the delivery) and every other rejection
 * with a 4xx. Reads the request's body; use the returned `body` afterwards.
 */
export async function verifyWebhook(input: WebhookInput, options: VerifyWebhookOptions = {}): Promise<VerifyWebhookResult> {
  const header = headerReader(input instanceof Request ? input.headers : input.headers);
  const bytes = input instanceof Request ? new Uint8Array(await input.arrayBuffer()) : toBytes(input.body);

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
  const now = (options.now ?? Date.now)();
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    return reject("timestamp_out_of_tolerance", `the delivery was signed more than ${tolerance} seconds from now`);
  }
  if (!isSignatureHex(signature)) {
    return reject("invalid_signature_format", "X-Fal-Webhook-Signature must be 64 bytes in hex");
  }
  if (options.userId !== undefined && userId !== options.userId) {
    return reject("user_mismatch", "the delivery is for another fal user");
  }

  const message = await webhookSignedMessage({ requestId, userId, timestamp, body: bytes });
  // isSignatureHex checked the form above, so the decoding cannot fail.
  const signatureBytes = fromHex(signature) as Uint8Array;

  let keys: CryptoKey[];
  try {
    keys = await loadKeys(options, now, false);
  } catch {
    return reject("jwks_unavailable", "fal's webhook keys could not be fetched");
  }
  let verified = await verifyWithAny(keys, signatureBytes, message);
  if (!verified && options.jwks === undefined) {
    const refreshed = await loadKeys(options, now, true).catch(() => undefined);
    if (refreshed && refreshed !== keys) verified = await verifyWithAny(refreshed, signatureBytes, message);
  }
  if (!verified) {
    if (keys.length === 0) return reject("no_usable_keys", "the JWKS holds no Ed25519 keys");
    return reject("signature_mismatch", "the signature does not match the delivery");
  }
  return { ok: true, requestId, userId, timestamp: Number(timestamp), body: new TextDecoder().decode(bytes) };
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

interface CacheEntry {
  keys: Promise<CryptoKey[]>;
  fetchedAt: number;
}

const jwksCache = new Map<string, CacheEntry>();

/** Forgets every fetched JWKS (after rotating keys in tests, or to force a refetch). */
export function clearJwksCache(): void {
  jwksCache.clear();
}

async function loadKeys(options: VerifyWebhookOptions, now: number, refresh: boolean): Promise<CryptoKey[]> {
  if (options.jwks !== undefined) {
    const jwks = typeof options.jwks === "function" ? await options.jwks() : options.jwks;
    return importKeys(jwks);
  }
  const url = options.jwksUrl ?? FAL_JWKS_URL;
  const ttl = options.jwksTtlMs ?? DEFAULT_JWKS_TTL_MS;
  const cached = jwksCache.get(url);
  const fresh = cached && now - cached.fetchedAt < ttl && now >= cached.fetchedAt;
  if (cached && fresh && !(refresh && now - cached.fetchedAt >= MIN_REFRESH_MS)) return cached.keys;
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  // The promise is cached, so concurrent deliveries share one fetch.
  const keys = (async () => {
    const response = await fetchImpl(url, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    return importKeys((await response.json()) as WebhookJwks);
  })();
  const entry = { keys, fetchedAt: now };
  jwksCache.set(url, entry);
  // A failed fetch is not remembered: the next delivery tries again.
  keys.catch(() => {
    if (jwksCache.get(url) === entry) jwksCache.delete(url);
  });
  return keys;
}

async function importKeys(jwks: WebhookJwks): Promise<CryptoKey[]> {
  const keys: CryptoKey[] = [];
  for (const jwk of Array.isArray(jwks?.keys) ? jwks.keys : []) {
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") continue;
    try {
      // Only the public members: a JWKS entry may carry `key_ops`/`use` that WebCrypto would reject.
      keys.push(
        await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"]),
      );
    } catch {
      // Malformed key: skip it, the others may still be good.
    }
  }
  return keys;
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

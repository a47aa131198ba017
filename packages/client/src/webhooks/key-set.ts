/**
 * fal's webhook keys, fetched from its JWKS and cached per URL the way jose's remote key sets are
 * (`createRemoteJWKSet`): the last good set is kept when a reload fails, a reload is given up after a
 * timeout, reloads are at least a cool-down apart however many deliveries ask for one, and only one
 * fetch is in flight at a time. Forged deliveries therefore cannot drive key-set traffic, and an
 * unreachable key-set host cannot take away keys that were already good.
 */

import { readCapped } from "@kontext-sdk/schema/protocol";

/** How long a fetched JWKS is used before it is reloaded. fal says keys may be cached for up to 24 hours. */
export const DEFAULT_JWKS_TTL_MS = 60 * 60 * 1000;
/** The least time between two key-set fetches (jose's `cooldownDuration`). */
export const DEFAULT_JWKS_COOLDOWN_MS = 30 * 1000;
/** How long a key-set fetch may take (jose's `timeoutDuration`). */
export const DEFAULT_JWKS_TIMEOUT_MS = 5 * 1000;
// A JWKS is a few hundred bytes; a host answering megabytes is not one.
const MAX_JWKS_BYTES = 256 * 1024;

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

/** How a remote key set is fetched and kept. */
export interface KeySetSettings {
  url: string;
  fetch: typeof fetch;
  now: () => number;
  ttlMs: number;
  cooldownMs: number;
  timeoutMs: number;
}

/** Why no key could be offered: the host could not be read, or it published no usable Ed25519 key. */
export type KeySetFailure = "unavailable" | "no_usable_keys";

interface CachedKeySet {
  /** The last good set (at least one usable key), kept through failed reloads. */
  keys: CryptoKey[] | undefined;
  /** When `keys` was fetched. */
  fetchedAt: number;
  /** When the last fetch started, good or bad: the cool-down counts from here. */
  attemptedAt: number | undefined;
  lastFailure: KeySetFailure | undefined;
  inFlight: Promise<void> | undefined;
}

const cache = new Map<string, CachedKeySet>();

/** Forgets every fetched JWKS (after rotating keys in tests, or to force a refetch). */
export function clearJwksCache(): void {
  cache.clear();
}

function entryFor(url: string): CachedKeySet {
  let entry = cache.get(url);
  if (!entry) {
    entry = { keys: undefined, fetchedAt: 0, attemptedAt: undefined, lastFailure: undefined, inFlight: undefined };
    cache.set(url, entry);
  }
  return entry;
}

/** The keys to verify with: the cached set, reloaded first when it has expired (and the cool-down allows). */
export async function currentKeys(settings: KeySetSettings): Promise<CryptoKey[] | KeySetFailure> {
  const entry = entryFor(settings.url);
  const now = settings.now();
  const expired = entry.keys === undefined || now - entry.fetchedAt >= settings.ttlMs || now < entry.fetchedAt;
  if (expired) await reload(entry, settings);
  return entry.keys ?? entry.lastFailure ?? "unavailable";
}

/**
 * After a signature matched no cached key: fal may have rotated its keys, so the set is reloaded, unless
 * a fetch happened within the cool-down. Returns the new set when it differs from `tried`, else undefined.
 */
export async function keysAfterMismatch(settings: KeySetSettings, tried: CryptoKey[]): Promise<CryptoKey[] | undefined> {
  const entry = entryFor(settings.url);
  await reload(entry, settings);
  return entry.keys !== undefined && entry.keys !== tried ? entry.keys : undefined;
}

/** Starts (or joins) one fetch, if the cool-down allows; never throws, never drops the last good set. */
async function reload(entry: CachedKeySet, settings: KeySetSettings): Promise<void> {
  if (entry.inFlight) return entry.inFlight;
  const now = settings.now();
  if (entry.attemptedAt !== undefined && now - entry.attemptedAt < settings.cooldownMs && now >= entry.attemptedAt) return;
  entry.attemptedAt = now;
  entry.inFlight = fetchKeys(settings)
    .then((keys) => {
      if (keys.length === 0) {
        entry.lastFailure = "no_usable_keys";
        return;
      }
      entry.keys = keys;
      entry.fetchedAt = settings.now();
      entry.lastFailure = undefined;
    })
    .catch(() => {
      entry.lastFailure = "unavailable";
    })
    .finally(() => {
      entry.inFlight = undefined;
    });
  return entry.inFlight;
}

async function fetchKeys(settings: KeySetSettings): Promise<CryptoKey[]> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Raced as well as aborted: a fetch implementation that ignores its signal must not hold deliveries.
  const timeout = new Promise<never>((_, rejectTimeout) => {
    timer = setTimeout(() => {
      abort.abort();
      rejectTimeout(new Error(`the JWKS did not answer within ${settings.timeoutMs} ms`));
    }, settings.timeoutMs);
  });
  try {
    const load = async () => {
      const response = await settings.fetch(settings.url, { headers: { accept: "application/json" }, signal: abort.signal });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`JWKS answered ${response.status}`);
      }
      const read = await readCapped(response.body, MAX_JWKS_BYTES, response.headers.get("content-length"));
      if (!read.ok) throw new Error("the JWKS is too large");
      return importKeys(JSON.parse(new TextDecoder().decode(read.bytes)) as unknown);
    };
    return await Promise.race([load(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The usable Ed25519 keys of a JWKS. Anything else in `keys` (null, other key types, broken keys) is
 * skipped, so one junk entry cannot break verification for the others.
 */
export async function importKeys(jwks: unknown): Promise<CryptoKey[]> {
  const entries = (jwks as { keys?: unknown } | null)?.keys;
  const keys: CryptoKey[] = [];
  for (const jwk of Array.isArray(entries) ? (entries as unknown[]) : []) {
    if (typeof jwk !== "object" || jwk === null) continue;
    const { kty, crv, x } = jwk as WebhookJwk;
    if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") continue;
    try {
      // Only the public members: a JWKS entry may carry `key_ops`/`use` that WebCrypto would reject.
      keys.push(await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x }, { name: "Ed25519" }, false, ["verify"]));
    } catch {
      // Malformed key: skip it, the others may still be good.
    }
  }
  return keys;
}

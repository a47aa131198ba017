/**
 * Issue 15, finding 1: forged deliveries must not disable verification or drive key-set traffic. The key
 * set behaves like jose's remote key sets: last good set kept, fetch timeout, 30 s cool-down, one fetch
 * in flight, junk entries skipped.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { clearJwksCache, type VerifyWebhookOptions, verifyWebhook } from "../../src/webhooks.js";
import {
  forgedHeaders,
  signDelivery,
  WEBHOOK_NOW,
  WEBHOOK_OK_BODY,
  webhookDelivery,
  webhookKeyPair,
} from "../support/webhook-signer.js";

const JWKS_URL = "https://keys.example.test/.well-known/jwks.json";

/** A key-set host that can be taken down, counting every fetch. */
function keySetHost(keys: unknown[]) {
  const host = { up: true, fetches: 0, answer: { keys } as unknown };
  const fetch = (async () => {
    host.fetches++;
    if (!host.up) throw new TypeError("fetch failed: connect ECONNREFUSED");
    return Response.json(host.answer);
  }) as unknown as typeof globalThis.fetch;
  return { host, fetch };
}

/** A clock the test moves, and the deliveries signed at its time. */
function scenario(fetch: typeof globalThis.fetch) {
  const state = { clock: WEBHOOK_NOW };
  const options: VerifyWebhookOptions = { fetch, jwksUrl: JWKS_URL, now: () => state.clock };
  const seconds = () => Math.floor(state.clock / 1000);
  const genuine = async (privateKey: CryptoKey) =>
    verifyWebhook(
      webhookDelivery(WEBHOOK_OK_BODY, await signDelivery(privateKey, WEBHOOK_OK_BODY, { timestamp: seconds() })),
      options,
    );
  const forged = () => verifyWebhook(webhookDelivery(WEBHOOK_OK_BODY, forgedHeaders(seconds())), options);
  return { state, options, genuine, forged };
}

describe("webhook key set: forgeries cannot disable verification (issue 15 #1)", () => {
  beforeEach(() => clearJwksCache());

  it("keeps the last good key set when a reload fails: genuine → forged → genuine is still accepted", async () => {
    const fal = await webhookKeyPair();
    const { host, fetch } = keySetHost([fal.jwk]);
    const { state, genuine, forged } = scenario(fetch);
    expect((await genuine(fal.privateKey)).ok).toBe(true);
    host.up = false;
    // Old enough that a failed signature asks for a reload.
    state.clock += 6 * 60_000;
    expect(await forged()).toMatchObject({ ok: false, reason: "signature_mismatch" });
    expect(await genuine(fal.privateKey)).toMatchObject({ ok: true });
    // Past the cache's lifetime too: the stale set still verifies while the host is down.
    state.clock += 2 * 60 * 60_000;
    expect(await genuine(fal.privateKey)).toMatchObject({ ok: true });
  });

  it("with the key-set host down, 1,000 forged deliveries cause at most one fetch per cool-down, and genuine ones pass", async () => {
    const fal = await webhookKeyPair();
    const { host, fetch } = keySetHost([fal.jwk]);
    const { state, genuine, forged } = scenario(fetch);
    expect((await genuine(fal.privateKey)).ok).toBe(true);
    expect(host.fetches).toBe(1);
    host.up = false;
    // Old enough that a failed signature asks for a reload (the case that refetched per forgery).
    state.clock += 6 * 60_000;

    const burst = await Promise.all(Array.from({ length: 500 }, forged));
    for (let index = 0; index < 500; index++) expect((await forged()).ok).toBe(false);
    expect(burst.every((result) => !result.ok && result.reason === "signature_mismatch")).toBe(true);
    expect(host.fetches).toBeLessThanOrEqual(2);
    expect((await genuine(fal.privateKey)).ok).toBe(true);

    // The next cool-down allows one more attempt, however many forgeries arrive in it.
    state.clock += 31_000;
    await Promise.all(Array.from({ length: 1000 }, forged));
    expect(host.fetches).toBeLessThanOrEqual(3);
    expect((await genuine(fal.privateKey)).ok).toBe(true);
  }, 60_000);

  it("without any cached set and the host down, forgeries still cause one fetch per cool-down", async () => {
    const fal = await webhookKeyPair();
    const { host, fetch } = keySetHost([fal.jwk]);
    host.up = false;
    const { state, genuine, forged } = scenario(fetch);
    const results = await Promise.all(Array.from({ length: 1000 }, forged));
    expect(results.every((result) => !result.ok && result.reason === "jwks_unavailable")).toBe(true);
    expect(host.fetches).toBe(1);
    // Once the host is back and the cool-down has passed, a genuine delivery verifies.
    host.up = true;
    state.clock += 31_000;
    expect((await genuine(fal.privateKey)).ok).toBe(true);
    expect(host.fetches).toBe(2);
  }, 60_000);

  it("gives up on a key-set fetch that never answers (timeout), instead of holding deliveries", async () => {
    const fal = await webhookKeyPair();
    let fetches = 0;
    // Never settles, and ignores its abort signal: only the timeout can end the wait.
    const hanging = (() => {
      fetches++;
      return new Promise<Response>(() => {});
    }) as unknown as typeof globalThis.fetch;
    const headers = await signDelivery(fal.privateKey, WEBHOOK_OK_BODY);
    const options = { fetch: hanging, jwksUrl: JWKS_URL, now: () => WEBHOOK_NOW, jwksTimeoutMs: 20 };
    const results = await Promise.all([
      verifyWebhook(webhookDelivery(WEBHOOK_OK_BODY, headers), options),
      verifyWebhook(webhookDelivery(WEBHOOK_OK_BODY, headers), options),
    ]);
    for (const result of results) expect(result).toMatchObject({ ok: false, reason: "jwks_unavailable" });
    // Both deliveries shared the one fetch in flight.
    expect(fetches).toBe(1);
  });

  it("tolerates junk entries in the key set (null, numbers, other key types, broken keys)", async () => {
    const fal = await webhookKeyPair();
    const junk = [
      null,
      42,
      "key",
      { kty: "RSA", n: "x", e: "AQAB" },
      { kty: "OKP", crv: "Ed25519" },
      { kty: "OKP", crv: "Ed25519", x: "!" },
    ];
    const { fetch } = keySetHost([...junk, fal.jwk]);
    const { genuine } = scenario(fetch);
    expect((await genuine(fal.privateKey)).ok).toBe(true);
    const headers = await signDelivery(fal.privateKey, WEBHOOK_OK_BODY);
    const pinned = await verifyWebhook(webhookDelivery(WEBHOOK_OK_BODY, headers), {
      jwks: { keys: [...junk, fal.jwk] as never },
      now: () => WEBHOOK_NOW,
    });
    expect(pinned.ok).toBe(true);
  });

  it("keeps the last good set when a reload answers a set with no usable key, and picks up a real rotation", async () => {
    const before = await webhookKeyPair();
    const after = await webhookKeyPair();
    const { host, fetch } = keySetHost([before.jwk]);
    const { state, genuine } = scenario(fetch);
    expect((await genuine(before.privateKey)).ok).toBe(true);
    host.answer = { keys: [null] };
    state.clock += 31_000;
    expect((await genuine(after.privateKey)).ok).toBe(false);
    expect((await genuine(before.privateKey)).ok).toBe(true);
    host.answer = { keys: [after.jwk] };
    state.clock += 31_000;
    expect((await genuine(after.privateKey)).ok).toBe(true);
  });
});

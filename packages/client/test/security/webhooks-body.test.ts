/**
 * Issue 15, finding 2: `verifyWebhook(request)` looks at the headers, the timestamp and the signature's
 * form before reading the body, and reads the body through a size cap.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES, verifyWebhook } from "../../src/webhooks.js";
import {
  forgedHeaders,
  signDelivery,
  WEBHOOK_NOW,
  WEBHOOK_OK_BODY,
  webhookDelivery,
  webhookKeyPair,
} from "../support/webhook-signer.js";

const now = () => WEBHOOK_NOW;
const MB = 1_000_000;

/** A body of `total` bytes made of fresh 64 KiB chunks, counting what was pulled. */
function hugeBody(total: number) {
  const counter = { pulledBytes: 0 };
  const chunkSize = 64 * 1024;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulledBytes >= total) return controller.close();
      counter.pulledBytes += chunkSize;
      controller.enqueue(new Uint8Array(chunkSize).fill(0x61));
    },
  });
  return { stream, counter };
}

/** A body that must not be read at all. */
function untouchableBody() {
  const counter = { pulls: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull() {
      counter.pulls++;
      throw new Error("the body was read");
    },
  });
  return { stream, counter };
}

const streamed = { duplex: "half" } as RequestInit;

describe("verifyWebhook reads the body last, through a cap (issue 15 #2)", () => {
  it("refuses missing headers, bad timestamps, bad signature forms and foreign users without reading the body", async () => {
    const { jwk } = await webhookKeyPair();
    const forged = forgedHeaders();
    const cases: Array<[Record<string, string>, string, Record<string, unknown>]> = [
      [{}, "missing_headers", {}],
      [{ ...forged, "x-fal-webhook-timestamp": "soon" }, "invalid_timestamp", {}],
      [{ ...forged, "x-fal-webhook-timestamp": String(WEBHOOK_NOW / 1000 - 3600) }, "timestamp_out_of_tolerance", {}],
      [{ ...forged, "x-fal-webhook-signature": "zz".repeat(64) }, "invalid_signature_format", {}],
      [forged, "user_mismatch", { userId: "someone-else" }],
    ];
    for (const [headers, reason, extra] of cases) {
      const body = untouchableBody();
      const result = await verifyWebhook(webhookDelivery(body.stream, headers, streamed), {
        jwks: { keys: [jwk] },
        now,
        ...extra,
      });
      expect(result).toMatchObject({ ok: false, reason });
      expect(body.counter.pulls).toBe(0);
    }
  });

  it("refuses a declared 100 MB body before reading it", async () => {
    const { jwk } = await webhookKeyPair();
    const body = untouchableBody();
    const request = webhookDelivery(body.stream, { ...forgedHeaders(), "content-length": String(100 * MB) }, streamed);
    const result = await verifyWebhook(request, { jwks: { keys: [jwk] }, now });
    expect(result).toMatchObject({ ok: false, reason: "body_too_large" });
    expect(body.counter.pulls).toBe(0);
  });

  it("refuses a streamed 100 MB body with well under 20 MB of memory growth", async () => {
    const { jwk } = await webhookKeyPair();
    // A first, small refusal warms the code paths up, so what is measured is the body, not compilation.
    await verifyWebhook(webhookDelivery(hugeBody(2 * MB).stream, forgedHeaders(), streamed), {
      jwks: { keys: [jwk] },
      now,
      maxBodyBytes: MB,
    });
    const body = hugeBody(100 * MB);
    const before = process.memoryUsage();
    const result = await verifyWebhook(webhookDelivery(body.stream, forgedHeaders(), streamed), { jwks: { keys: [jwk] }, now });
    const after = process.memoryUsage();
    expect(result).toMatchObject({ ok: false, reason: "body_too_large" });
    // It stopped pulling just past the cap instead of draining 100 MB.
    expect(body.counter.pulledBytes).toBeLessThanOrEqual(DEFAULT_WEBHOOK_MAX_BODY_BYTES + 64 * 1024);
    const growth = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    expect(growth).toBeLessThan(20 * MB);
  }, 60_000);

  it("applies the cap to an already-read body too, and honours maxBodyBytes", async () => {
    const fal = await webhookKeyPair();
    const headers = await signDelivery(fal.privateKey, WEBHOOK_OK_BODY);
    const options = { jwks: { keys: [fal.jwk] }, now };
    expect(await verifyWebhook({ headers, body: WEBHOOK_OK_BODY }, { ...options, maxBodyBytes: 100 })).toMatchObject({
      ok: false,
      reason: "body_too_large",
    });
    expect(await verifyWebhook(webhookDelivery(WEBHOOK_OK_BODY, headers), { ...options, maxBodyBytes: 100 })).toMatchObject({
      ok: false,
      reason: "body_too_large",
    });
    expect((await verifyWebhook(webhookDelivery(WEBHOOK_OK_BODY, headers), options)).ok).toBe(true);
  });

  it("still verifies a large genuine delivery under the default cap (sync_mode data URIs)", async () => {
    const fal = await webhookKeyPair();
    const dataUri = `data:image/png;base64,${"A".repeat(3 * MB)}`;
    const body = JSON.parse(WEBHOOK_OK_BODY);
    body.payload.images = Array.from({ length: 4 }, () => ({ ...body.payload.images[0], url: dataUri }));
    const text = JSON.stringify(body);
    expect(text.length).toBeGreaterThan(12 * MB);
    const result = await verifyWebhook(webhookDelivery(text, await signDelivery(fal.privateKey, text)), {
      jwks: { keys: [fal.jwk] },
      now,
    });
    expect(result.ok).toBe(true);
  }, 60_000);
});

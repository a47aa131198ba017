/**
 * The webhook inbox and its `node:http` listener: a delivery is verified before its body is read (an
 * unsigned flood is answered without being drained), a signed one is read through `maxBodyBytes`, and
 * the statuses tell fal whether to deliver again (5xx only when fal's keys could not be fetched).
 */
import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";
import type { VerifyWebhookOptions } from "@kontext-sdk/client/webhooks";
import { createWebhookSigner } from "@kontext-sdk/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { JobEngine } from "../src/engine.js";
import { type WebhookInbox as Inbox, listenForWebhooks, WebhookInbox, type WebhookListener } from "../src/webhooks.js";

const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";

/** Never used: no job is late in these tests, so the sweep never follows one. */
const noEngine = {} as JobEngine;

const opened: { inbox: Inbox; listener?: WebhookListener }[] = [];
afterEach(async () => {
  for (const { inbox, listener } of opened.splice(0)) {
    inbox.close();
    await listener?.close();
  }
});

async function startListener(verify: VerifyWebhookOptions) {
  const inbox = new WebhookInbox(noEngine, { verify, lateAfterMs: 600_000 });
  const listener = await listenForWebhooks(inbox);
  opened.push({ inbox, listener });
  return { inbox, listener };
}

/** POSTs a body made on demand, up to `totalBytes`; answers the status and how much had been produced by then. */
function postStream(url: string, headers: Record<string, string>, totalBytes: number) {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let produced = 0;
  const source = new Readable({
    read() {
      if (produced >= totalBytes) {
        this.push(null);
        return;
      }
      produced += chunk.length;
      this.push(chunk);
    },
  });
  return new Promise<{ status: number; produced: number }>((resolve, reject) => {
    const request = httpRequest(url, { method: "POST", headers: { "content-type": "application/json", ...headers } });
    request.on("response", (response) => {
      const answered = { status: response.statusCode!, produced };
      response.resume();
      source.destroy();
      request.destroy();
      resolve(answered);
    });
    // The listener may cut the connection once it has answered; only an error before the answer counts.
    request.on("error", reject);
    source.pipe(request);
  });
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  await response.arrayBuffer();
  return response.status;
}

describe("listenForWebhooks", () => {
  it("refuses an unsigned POST on its headers without reading its body", async () => {
    const { inbox, listener } = await startListener({ jwks: { keys: [] } });
    const total = 512 * 1024 * 1024;
    const { status, produced } = await postStream(listener.url, {}, total);
    expect(status).toBe(401);
    // Only what fits in the socket buffers was written before the answer, not the 512 MiB.
    expect(produced).toBeLessThan(total / 8);
    expect(inbox.counts).toMatchObject({ delivered: 0, refused: 1 });
  });

  it("reads a signed delivery through maxBodyBytes, and completes the job from one within it", async () => {
    const signer = createWebhookSigner();
    const { inbox, listener } = await startListener({ jwks: await signer.jwks(), maxBodyBytes: 1024 * 1024 });

    // Signed headers, a body far over the cap: refused once the cap is passed, not after reading it all.
    const total = 512 * 1024 * 1024;
    const big = await postStream(listener.url, await signer.headers("req-big", "whatever"), total);
    expect(big.status).toBe(413);
    expect(big.produced).toBeLessThan(total / 8);

    const body = JSON.stringify({
      request_id: "req-ok",
      status: "OK",
      payload: { images: [], seed: 1, prompt: "p", has_nsfw_concepts: [], timings: {} },
    });
    const waited = inbox.wait(ENDPOINT, "req-ok");
    expect(await post(listener.url, await signer.headers("req-ok", body), body)).toBe(200);
    await expect(waited).resolves.toMatchObject({ requestId: "req-ok", data: { seed: 1 } });
    expect(inbox.counts).toMatchObject({ delivered: 1, refused: 1 });
  });

  it("answers 404 off its path", async () => {
    const { listener } = await startListener({ jwks: { keys: [] } });
    expect(await post(listener.url.replace("/webhook", "/other"), {}, "{}")).toBe(404);
  });
});

describe("WebhookInbox.deliver", () => {
  it("answers 503 when fal's keys cannot be fetched (fal retries), and 401 for a forged signature", async () => {
    const signer = createWebhookSigner();
    const body = JSON.stringify({ request_id: "req-1", status: "OK", payload: {} });
    const headers = await signer.headers("req-1", body);

    const unreachable = new WebhookInbox(noEngine, {
      lateAfterMs: 600_000,
      verify: {
        jwksUrl: `https://jwks-${Date.now()}-${Math.random()}.example.test/jwks.json`,
        fetch: async () => {
          throw new TypeError("fetch failed");
        },
      },
    });
    opened.push({ inbox: unreachable });
    expect(await unreachable.deliver({ headers, body })).toBe(503);

    const other = createWebhookSigner();
    const forged = new WebhookInbox(noEngine, { lateAfterMs: 600_000, verify: { jwks: await other.jwks() } });
    opened.push({ inbox: forged });
    expect(await forged.deliver({ headers, body })).toBe(401);
  });
});

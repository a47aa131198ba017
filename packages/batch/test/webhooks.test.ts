/**
 * The webhook inbox: the statuses tell fal whether to deliver again (5xx only when fal's keys could
 * not be fetched).
 */
import { createWebhookSigner } from "@kontext-sdk/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { JobEngine } from "../src/engine.js";
import { type WebhookInbox as Inbox, WebhookInbox } from "../src/webhooks.js";

/** Never used: no job is late in these tests, so the sweep never follows one. */
const noEngine = {} as JobEngine;

const opened: { inbox: Inbox }[] = [];
afterEach(() => {
  for (const { inbox } of opened.splice(0)) inbox.close();
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

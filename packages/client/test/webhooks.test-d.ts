import type { FlatError, HTTPValidationError, KontextOutput } from "@kontext-sdk/schema";
import { describe, expectTypeOf, it } from "vitest";
import { parseWebhook, receiveWebhook, type VerifyWebhookResult, verifyWebhook } from "../src/webhooks.js";

describe("webhook types", () => {
  it("narrows on ok", () => {
    const parsed = parseWebhook("{}", { endpoint: "fal-ai/flux-pro/kontext/max/multi" });
    if (parsed.ok) {
      expectTypeOf(parsed.payload).toEqualTypeOf<KontextOutput>();
      expectTypeOf(parsed.gatewayRequestId).toEqualTypeOf<string | undefined>();
    } else {
      expectTypeOf(parsed.error).toEqualTypeOf<string>();
      expectTypeOf<HTTPValidationError | FlatError | null>().toMatchTypeOf<typeof parsed.payload>();
      expectTypeOf(parsed.payloadError).toEqualTypeOf<string | undefined>();
    }
  });

  it("verifies a Request or headers with a raw body", () => {
    expectTypeOf(verifyWebhook(new Request("https://x"))).resolves.toEqualTypeOf<VerifyWebhookResult>();
    expectTypeOf(verifyWebhook).toBeCallableWith({ headers: { "x-fal-webhook-request-id": "a" }, body: new Uint8Array() });
    // @ts-expect-error endpoint ids are checked
    receiveWebhook(new Request("https://x"), { endpoint: "fal-ai/flux/dev" });
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { componentSchema, setup, T2I, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

function receiver(status = 200) {
  const calls: { url: string; headers: Headers; body: any }[] = [];
  const webhookFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), headers: new Headers(init?.headers), body: JSON.parse(String(init?.body)) });
    return new Response(null, { status });
  }) as typeof fetch;
  return { calls, webhookFetch };
}

const HOOK = "https://example.org/api/fal/webhook";
const flush = () => new Promise((r) => setTimeout(r, 0));
const validPayload = componentSchema("WebhookPayload");

describe("webhooks", () => {
  it("POSTs the OK payload to fal_webhook when the job completes, without anyone polling", async () => {
    const hook = receiver();
    const t = setup({ webhookFetch: hook.webhookFetch });
    const { body } = await t.submit({ prompt: "hook", seed: 3 }, T2I, `?fal_webhook=${encodeURIComponent(HOOK)}`);
    t.clock.advance(499);
    await flush();
    expect(hook.calls).toHaveLength(0);
    t.clock.advance(1);
    await flush();
    expect(hook.calls).toHaveLength(1);
    const [call] = hook.calls;
    expect(call!.url).toBe(HOOK);
    expect(call!.headers.get("content-type")).toBe("application/json");
    expect(call!.body).toMatchObject({ request_id: body.request_id, gateway_request_id: body.request_id, status: "OK" });
    expect(call!.body.payload).toEqual(await (await t.call(body.response_url)).json());
    expect(validPayload(call!.body)).toBe(true);
    expect(t.mock.webhooks).toEqual([{ url: HOOK, payload: call!.body, status: 200 }]);
  });

  it("POSTs an ERROR payload when the result fails", async () => {
    const hook = receiver();
    const t = setup({ webhookFetch: hook.webhookFetch, faults: [{ kind: "fail-at-result" }] });
    const { body } = await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    t.clock.advance(500);
    await flush();
    expect(hook.calls[0]!.body).toMatchObject({
      request_id: body.request_id,
      status: "ERROR",
      error: "Invalid status code: 422",
      payload: { detail: [expect.objectContaining({ loc: ["body", "prompt"] })] },
    });
    expect(validPayload(hook.calls[0]!.body)).toBe(true);
  });

  it("POSTs an ERROR payload at once when a running job is cancelled, and nothing for a removed queued job", async () => {
    const hook = receiver();
    const t = setup({ webhookFetch: hook.webhookFetch });
    const queued = (await t.submit({ prompt: "a" }, T2I, `?fal_webhook=${HOOK}`)).body;
    await t.call(queued.cancel_url, { method: "PUT" });
    const running = (await t.submit({ prompt: "b" }, T2I, `?fal_webhook=${HOOK}`)).body;
    t.clock.advance(250);
    await t.call(running.cancel_url, { method: "PUT" });
    await flush();
    t.clock.advance(10_000);
    await flush();
    expect(hook.calls.map((c) => [c.body.request_id, c.body.status, c.body.error])).toEqual([
      [running.request_id, "ERROR", "Invalid status code: 400"],
    ]);
    expect(hook.calls[0]!.body.payload).toEqual({ detail: "Request was cancelled", error_type: "client_cancelled" });
    expect(t.clock.pendingTimers).toBe(0);
  });

  it("records failed deliveries without breaking the mock", async () => {
    const t = setup({
      webhookFetch: (async () => {
        throw new TypeError("fetch failed");
      }) as typeof fetch,
    });
    const { body } = await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    t.clock.advance(500);
    await flush();
    expect(t.mock.webhooks[0]).toMatchObject({ url: HOOK, error: "fetch failed" });
    expect((await t.call(body.response_url)).status).toBe(200);
  });

  it("records the receiver's status", async () => {
    const hook = receiver(500);
    const t = setup({ webhookFetch: hook.webhookFetch });
    await t.submit({ prompt: "x" }, T2I, `?fal_webhook=${HOOK}`);
    t.clock.advance(500);
    await flush();
    expect(t.mock.webhooks[0]!.status).toBe(500);
  });
});

/**
 * Issue 15, "what held": attacks the proxy already withstood, kept covered here next to the findings
 * (path and encoding tricks, other hosts in x-fal-target-url, method confusion, oversize and invalid
 * bodies, `__proto__`, client webhooks, redirects, cookies). More of them live in test/proxy.test.ts.
 */
import { describe, expect, it } from "vitest";
import { REQUEST_ID } from "../support/fake-upstream.js";
import { APP, PROXY, pageRequest, QUEUE, submitRequest, T2I, testProxy, VALID_INPUT } from "../support/proxy-requests.js";

const setup = () => testProxy();

describe("what held (issue 15)", () => {
  it("path and encoding attacks never reach upstream", async () => {
    const { proxy, calls } = setup();
    const targets = [
      `${QUEUE}/fal-ai/flux-pro/requests/..%2F..%2Fadmin/status`,
      `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/../../x`,
      `${QUEUE}/fal-ai/flux-pro/requests/%2e%2e/status`,
      `${QUEUE}/fal-ai//flux-pro/requests/${REQUEST_ID}/status`,
      `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}%00/status`,
    ];
    for (const target of targets) expect([400, 403]).toContain((await proxy(pageRequest(PROXY, APP, { target }))).status);
    expect(calls).toHaveLength(0);
  });

  it("other hosts, schemes, ports and userinfo in x-fal-target-url are refused", async () => {
    const { proxy, calls } = setup();
    for (const host of [
      "https://evil.example",
      "http://queue.fal.run",
      "https://queue.fal.run:8443",
      "https://u:p@queue.fal.run",
      "https://queue.fal.run.evil.example",
    ]) {
      expect([400, 403]).toContain((await proxy(submitRequest(PROXY, APP, VALID_INPUT, `${host}/${T2I}`))).status);
    }
    expect(calls).toHaveLength(0);
  });

  it("method confusion: GET on submit, POST on cancel, PUT on result are refused", async () => {
    const { proxy, calls } = setup();
    const base = `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}`;
    expect((await proxy(pageRequest(PROXY, APP, { target: `${QUEUE}/${T2I}` }))).status).toBe(403);
    expect((await proxy(pageRequest(PROXY, APP, { method: "POST", target: `${base}/cancel`, body: "{}" }))).status).toBe(403);
    expect((await proxy(pageRequest(PROXY, APP, { method: "PUT", target: base }))).status).toBe(403);
    expect(calls).toHaveLength(0);
  });

  it("invalid UTF-8 is a 422 json_invalid; __proto__ keys cannot pollute or sneak past validation", async () => {
    const { proxy, calls } = setup();
    const invalidUtf8 = pageRequest(PROXY, APP, {
      method: "POST",
      target: `${QUEUE}/${T2I}`,
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    const answer = await proxy(invalidUtf8);
    expect(answer.status).toBe(422);
    expect((await answer.json()).detail[0].type).toBe("json_invalid");
    const polluted = await proxy(submitRequest(PROXY, APP, '{"prompt":"x","__proto__":{"polluted":true}}'));
    expect(polluted.status).toBe(422);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(calls).toHaveLength(0);
  });

  it("upstream cookies are dropped and redirects become 502", async () => {
    const { proxy } = testProxy({}, () => Response.json({ images: [] }, { headers: { "set-cookie": "s=1", server: "x" } }));
    const answer = await proxy(pageRequest(PROXY, APP, { target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}` }));
    expect(answer.headers.get("set-cookie")).toBeNull();
    const { proxy: second } = testProxy(
      {},
      () => new Response(null, { status: 302, headers: { location: "https://evil.example/" } }),
    );
    expect((await second(submitRequest(PROXY, APP, VALID_INPUT))).status).toBe(502);
  });
});

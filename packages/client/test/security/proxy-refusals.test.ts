/**
 * Issue 15, finding 6: a refusal says why (a reason code in the body, no secrets) and reaches the
 * operator (`onRefused`, or a first-time warning by default), so a first set-up does not stall.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createKontextProxy, type KontextProxyOptions } from "../../src/proxy.js";
import { fakeUpstream } from "../support/fake-upstream.js";
import {
  APP,
  keyForms,
  PROXY,
  PROXY_KEY,
  pageRequest,
  QUEUE,
  readAll,
  submitRequest,
  T2I,
  VALID_INPUT,
} from "../support/proxy-requests.js";

function setup(options: Partial<KontextProxyOptions> = {}) {
  const upstream = fakeUpstream();
  const refused: Array<{ reason: string; status: number; url: string }> = [];
  const proxy = createKontextProxy({
    allowedHosts: ["app.example.com"],
    credentials: PROXY_KEY,
    fetch: upstream.fetch,
    onRefused: (reason, request, answer) => refused.push({ reason, status: answer.status, url: request.url }),
    ...options,
  });
  return { proxy, calls: upstream.calls, refused };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("refusals carry a reason and reach onRefused (issue 15 #6)", () => {
  const cases: Array<[string, () => Request, number, string, Partial<KontextProxyOptions>?]> = [
    [
      "no browser headers",
      () => new Request(PROXY, { headers: { "x-fal-target-url": `${QUEUE}/${T2I}` } }),
      403,
      "no_browser_headers",
    ],
    [
      "another site's Origin",
      () => pageRequest(PROXY, "https://evil.example", { target: `${QUEUE}/${T2I}` }),
      403,
      "origin_not_allowed",
    ],
    [
      "a cross-site fetch",
      () =>
        new Request(PROXY, { headers: { origin: APP, "sec-fetch-site": "cross-site", "x-fal-target-url": `${QUEUE}/${T2I}` } }),
      403,
      "cross_site",
    ],
    [
      "a host not served",
      () => submitRequest("https://other.example/api/fal/proxy", "https://other.example", VALID_INPUT),
      403,
      "host_not_allowed",
    ],
    ["another model", () => submitRequest(PROXY, APP, VALID_INPUT, `${QUEUE}/fal-ai/flux/dev`), 403, "operation_not_allowed"],
    [
      "another host in x-fal-target-url",
      () => submitRequest(PROXY, APP, VALID_INPUT, `https://evil.example/${T2I}`),
      403,
      "target_not_allowed",
    ],
    ["an unparsable x-fal-target-url", () => submitRequest(PROXY, APP, VALID_INPUT, "not a url"), 400, "bad_target"],
    ["a DELETE", () => pageRequest(PROXY, APP, { method: "DELETE", target: `${QUEUE}/${T2I}` }), 405, "method_not_allowed"],
    [
      "a caller's fal_webhook",
      () => submitRequest(PROXY, APP, VALID_INPUT, `${QUEUE}/${T2I}?fal_webhook=https://x.example/`),
      403,
      "client_webhook_refused",
    ],
    [
      "a custom authorize saying no",
      () => submitRequest(PROXY, APP, VALID_INPUT),
      403,
      "authorize_refused",
      { authorize: () => false },
    ],
    [
      "authorizeOperation saying no",
      () => submitRequest(PROXY, APP, VALID_INPUT),
      403,
      "operation_refused",
      { authorizeOperation: () => false },
    ],
    ["no credentials", () => submitRequest(PROXY, APP, VALID_INPUT), 500, "no_credentials", { credentials: () => undefined }],
  ];
  for (const [what, make, status, reason, options] of cases) {
    it(`${what} → ${status} ${reason}`, async () => {
      const { proxy, calls, refused } = setup(options);
      const response = await proxy(make());
      expect(response.status).toBe(status);
      const text = await readAll(response.clone());
      const body = await response.json();
      expect(body.reason).toBe(reason);
      expect(typeof body.detail).toBe("string");
      expect(response.headers.get("x-fal-error-type")).toBe(body.error_type);
      for (const form of keyForms(PROXY_KEY)) expect(text).not.toContain(form);
      expect(refused).toEqual([{ reason, status, url: expect.any(String) }]);
      expect(calls).toHaveLength(0);
    });
  }

  it("the core-shaped answers (413, 422) keep the mock's body and still report their reason", async () => {
    const { proxy, refused } = setup({ maxBodyBytes: 100 });
    expect((await proxy(submitRequest(PROXY, APP, { prompt: "x".repeat(200) }))).status).toBe(413);
    const { proxy: strict, refused: strictRefused } = setup();
    expect((await strict(submitRequest(PROXY, APP, "{broken"))).status).toBe(422);
    expect((await strict(submitRequest(PROXY, APP, { prompt: "" }))).status).toBe(422);
    expect(refused.map((entry) => entry.reason)).toEqual(["body_too_large"]);
    expect(strictRefused.map((entry) => entry.reason)).toEqual(["invalid_json", "invalid_input"]);
  });

  it("without onRefused, warns once per reason (no key, control characters escaped)", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const upstream = fakeUpstream();
    const proxy = createKontextProxy({ allowedHosts: ["app.example.com"], credentials: PROXY_KEY, fetch: upstream.fetch });
    for (let index = 0; index < 5; index++)
      await proxy(pageRequest(`${PROXY}?x=%1b[31m`, "https://evil.example", { target: `${QUEUE}/${T2I}` }));
    await proxy(new Request(PROXY, { headers: { "x-fal-target-url": `${QUEUE}/${T2I}` } }));
    expect(warn).toHaveBeenCalledTimes(2);
    const logged = warn.mock.calls.map((call) => String(call[0])).join("\n");
    expect(logged).toContain("origin_not_allowed");
    expect(logged).toContain("no_browser_headers");
    expect(logged).not.toContain("\u001b");
    for (const form of keyForms(PROXY_KEY)) expect(logged).not.toContain(form);
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { createKontextClient, createKontextRawClient, KontextError } from "../src/index.js";
import { falQueue, json, output, submitted } from "./helpers.js";

const MAX = "fal-ai/flux-pro/kontext/max" as const;
const input = { prompt: "a fox", image_url: "https://example.com/a.png" };
const GW = "https://gateway.example.com/api/v1";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

describe("a Bearer gateway whose answers point at fal's own host", () => {
  it("keeps every call, and the token, on the gateway", async () => {
    const q = falQueue({ id: "g1", base: "https://queue.fal.run" });
    const c = createKontextClient({ baseUrl: GW, authScheme: "Bearer", credentials: "gw-token-123", fetch: q.fetch });
    for (const mode of ["stream", "poll"] as const) {
      const r = await c.subscribe(MAX, input, { mode, pollInterval: 1 });
      expect(r.data).toEqual(output);
    }
    await c.cancel(MAX, "g1");
    expect(q.calls.length).toBeGreaterThan(6);
    for (const call of q.calls) {
      expect(new URL(call.url).origin).toBe("https://gateway.example.com");
      expect(call.url.startsWith(`${GW}/`)).toBe(true);
      expect(call.headers.get("authorization")).toBe("Bearer gw-token-123");
    }
  });

  it("never sends the key to a foreign origin, even through the raw client", async () => {
    const q = falQueue();
    const raw = createKontextRawClient({ baseUrl: GW, credentials: "k", fetch: q.fetch });
    await raw.GET("/fal-ai/flux-pro/requests/{request_id}/status", {
      params: { path: { request_id: "r1" } },
      baseUrl: "https://evil.example",
    });
    expect(q.calls[0]!.url).toBe("https://evil.example/fal-ai/flux-pro/requests/r1/status");
    expect(q.calls[0]!.headers.has("authorization")).toBe(false);
  });
});

describe("createKontextRawClient", () => {
  it("is openapi-fetch over the spec's paths, with the client's auth and retries", async () => {
    const q = falQueue({ id: "x1", override: (_, i) => (i === 0 ? json({ detail: "later" }, 503) : undefined) });
    const raw = createKontextRawClient({ credentials: "k", fetch: q.fetch, retry: { baseDelay: 1 } });
    const { data, response } = await raw.GET("/fal-ai/flux-pro/requests/{request_id}/status", {
      params: { path: { request_id: "x1" } },
    });
    expect(response.status).toBe(202);
    expect(data?.status).toBe("IN_QUEUE");
    expect(q.calls).toHaveLength(2);
    expect(q.calls[1]!.headers.get("authorization")).toBe("Key k");
    const sub = await raw.POST("/fal-ai/flux-pro/kontext/max", { body: input });
    expect(sub.data?.request_id).toBe("x1");
    expect(JSON.parse(q.calls[2]!.body!)).toEqual(input);
  });

  it("hands non-2xx answers back to openapi-fetch as `error`", async () => {
    const q = falQueue({
      override: () => json({ detail: [{ loc: ["body", "prompt"], msg: "required", type: "missing" }] }, 422),
    });
    const raw = createKontextRawClient({ credentials: "k", fetch: q.fetch });
    const { error, response } = await raw.POST("/fal-ai/flux-pro/kontext/max", { body: input });
    expect(response.status).toBe(422);
    expect(error?.detail).toHaveLength(1);
  });
});

describe("proxyUrl (fal's x-fal-target-url protocol)", () => {
  it("sends every call to the proxy with the real URL in a header and no credentials", async () => {
    vi.stubEnv("FAL_KEY", "env-key-should-not-leak");
    const q = falQueue({ id: "p1" });
    const c = createKontextClient({ proxyUrl: "https://app.example/api/fal", fetch: q.fetch });
    await c.subscribe(MAX, input);
    await c.run(MAX, input);
    const targets = q.calls.map((c) => `${c.method} ${c.url} → ${c.headers.get("x-fal-target-url")}`);
    expect(targets).toEqual([
      `POST https://app.example/api/fal → https://queue.fal.run/${MAX}`,
      "GET https://app.example/api/fal → https://queue.fal.run/fal-ai/flux-pro/requests/p1/status/stream",
      "GET https://app.example/api/fal → https://queue.fal.run/fal-ai/flux-pro/requests/p1",
      `POST https://app.example/api/fal → https://fal.run/${MAX}`,
    ]);
    for (const call of q.calls) expect(call.headers.has("authorization")).toBe(false);
  });

  it("attaches credentials only when they are given explicitly", async () => {
    const q = falQueue();
    const c = createKontextClient({
      proxyUrl: "https://app.example/api/fal",
      credentials: async () => "short-lived",
      authScheme: "Bearer",
      fetch: q.fetch,
    });
    await c.status(MAX, "r");
    expect(q.calls[0]!.headers.get("authorization")).toBe("Bearer short-lived");
  });
});

describe("credentials", () => {
  it("defaults to FAL_KEY, then FAL_KEY_ID:FAL_KEY_SECRET, read at call time", async () => {
    vi.stubEnv("FAL_KEY", "");
    vi.stubEnv("FAL_KEY_ID", "id");
    vi.stubEnv("FAL_KEY_SECRET", "secret");
    const q = falQueue();
    await createKontextClient({ fetch: q.fetch }).status(MAX, "r");
    expect(q.calls[0]!.headers.get("authorization")).toBe("Key id:secret");
    vi.stubEnv("FAL_KEY", "plain");
    await createKontextClient({ fetch: q.fetch }).status(MAX, "r");
    expect(q.calls[1]!.headers.get("authorization")).toBe("Key plain");
  });

  it("resolves a credentials function per call and sends nothing when it returns undefined", async () => {
    vi.stubEnv("FAL_KEY", "");
    const keys = ["a", undefined];
    const q = falQueue();
    const c = createKontextClient({ credentials: () => keys.shift(), fetch: q.fetch });
    await c.status(MAX, "r");
    await c.status(MAX, "r");
    expect(q.calls.map((c) => c.headers.get("authorization"))).toEqual(["Key a", null]);
  });
});

describe("in a browser", () => {
  const browser = () => {
    vi.stubGlobal("window", {});
    vi.stubGlobal("document", {});
  };

  it("refuses a raw key without proxyUrl unless dangerouslyAllowBrowser is set", () => {
    browser();
    expect(() => createKontextClient({ credentials: "key:secret" })).toThrow(KontextError);
    expect(() => createKontextClient({ credentials: "key:secret" })).not.toThrow("key:secret");
    expect(() => createKontextClient({ credentials: "key:secret", dangerouslyAllowBrowser: true })).not.toThrow();
    expect(() => createKontextClient({ credentials: "key:secret", proxyUrl: "/api/fal" })).not.toThrow();
    expect(() => createKontextClient({ credentials: () => "token" })).not.toThrow();
    expect(() => createKontextClient({ proxyUrl: "/api/fal" })).not.toThrow();
  });

  it("does not read FAL_KEY from a bundler-provided process.env", async () => {
    browser();
    vi.stubEnv("FAL_KEY", "leaked");
    const q = falQueue({ override: () => json(submitted("b")) });
    await createKontextClient({ fetch: q.fetch }).status(MAX, "r");
    expect(q.calls[0]!.headers.has("authorization")).toBe(false);
  });
});

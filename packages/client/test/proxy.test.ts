import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  createKontextProxy,
  DEFAULT_MAX_BODY_BYTES,
  isSameOriginRequest,
  KontextProxyConfigError,
  type KontextProxyOptions,
  toRouteHandlers,
} from "../src/proxy.js";
import { fakeUpstream, OUTPUT, REQUEST_ID } from "./support/fake-upstream.js";

const KEY = "key-id-1234:super-secret-value-5678";
const APP = "https://app.example.com";
const PROXY = `${APP}/api/fal/proxy`;
const QUEUE = "https://queue.fal.run";
const T2I = "fal-ai/flux-pro/kontext/text-to-image";
const VALID = { prompt: "a tiger", num_images: 1 };
// The proxy answers only for host names it was told about (localhost names and IPs aside).
const HOSTS = { allowedHosts: ["app.example.com"] };

function setup(options: Partial<KontextProxyOptions> = {}) {
  const upstream = fakeUpstream();
  const proxy = createKontextProxy({ ...HOSTS, credentials: KEY, fetch: upstream.fetch, ...options });
  return { proxy, calls: upstream.calls };
}

/** A request as a same-origin page would send it. */
function browser(url: string, init: RequestInit & { target?: string } = {}): Request {
  const headers = new Headers(init.headers);
  if (!headers.has("origin")) headers.set("origin", APP);
  headers.set("sec-fetch-site", "same-origin");
  if (init.target) headers.set("x-fal-target-url", init.target);
  return new Request(url, { ...init, headers });
}

function post(target: string, body: unknown, headers: Record<string, string> = {}): Request {
  return browser(PROXY, {
    method: "POST",
    target,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function everything(response: Response): Promise<string> {
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    headers.push(`${name}: ${value}`);
  });
  return `${headers.join("\n")}\n\n${await response.text()}`;
}

describe("forwarding the spec's operations (x-fal-target-url)", () => {
  it("submits a valid input with the server's key, not the browser's", async () => {
    const { proxy, calls } = setup();
    const response = await proxy(
      post(`${QUEUE}/${T2I}`, VALID, { authorization: "Key browser-key", "x-fal-queue-priority": "low" }),
    );
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.method).toBe("POST");
    expect(call.url).toBe(`${QUEUE}/${T2I}`);
    expect(call.headers.authorization).toBe(`Key ${KEY}`);
    expect(call.headers["x-fal-queue-priority"]).toBe("low");
    expect(call.headers["x-fal-target-url"]).toBeUndefined();
    expect(call.headers.origin).toBeUndefined();
    expect(JSON.parse(call.body!)).toEqual(VALID);
  });

  it("uses the Bearer scheme for gateways", async () => {
    const { proxy, calls } = setup({ authScheme: "Bearer", target: "https://api.chainhub.tech" });
    const response = await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(response.status).toBe(200);
    // fal's queue host named by the browser is mapped onto the configured gateway.
    expect(calls[0]!.url).toBe(`https://api.chainhub.tech/${T2I}`);
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("rewrites status_url, response_url and cancel_url to point back through the proxy", async () => {
    const { proxy } = setup();
    const body = await (await proxy(post(`${QUEUE}/${T2I}`, VALID))).json();
    expect(body).toMatchObject({
      status: "IN_QUEUE",
      request_id: REQUEST_ID,
      status_url: `${PROXY}/fal-ai/flux-pro/requests/${REQUEST_ID}/status`,
      response_url: `${PROXY}/fal-ai/flux-pro/requests/${REQUEST_ID}`,
      cancel_url: `${PROXY}/fal-ai/flux-pro/requests/${REQUEST_ID}/cancel`,
    });
  });

  it("rewrites URLs on status answers too, and honours publicUrl", async () => {
    const { proxy } = setup({ publicUrl: "https://public.example.com/fal/" });
    // With publicUrl set, Origin is judged against it (never against the request's own Host).
    const response = await proxy(
      browser(PROXY, {
        target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status?logs=1`,
        headers: { origin: "https://public.example.com" },
      }),
    );
    expect(response.status).toBe(202);
    const body = await response.json();
    expect(body.status_url).toBe(`https://public.example.com/fal/fal-ai/flux-pro/requests/${REQUEST_ID}/status`);
  });

  it("forwards status (with logs), result and cancel with the right methods and paths", async () => {
    const { proxy, calls } = setup();
    const base = `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}`;
    expect((await proxy(browser(PROXY, { target: `${base}/status?logs=1&evil=1` }))).status).toBe(202);
    const result = await proxy(browser(PROXY, { target: base }));
    expect(result.status).toBe(200);
    expect(result.headers.get("x-fal-request-id")).toBe(REQUEST_ID);
    expect(await result.json()).toEqual(OUTPUT);
    expect((await proxy(browser(PROXY, { method: "PUT", target: `${base}/cancel` }))).status).toBe(202);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([`GET ${base}/status?logs=1`, `GET ${base}`, `PUT ${base}/cancel`]);
  });

  it("runs synchronously on fal.run, validated the same way", async () => {
    const { proxy, calls } = setup();
    const response = await proxy(post(`https://fal.run/${T2I}`, VALID));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(OUTPUT);
    expect(calls[0]!.url).toBe(`https://fal.run/${T2I}`);
    const bad = await proxy(post(`https://fal.run/${T2I}`, { prompt: "" }));
    expect(bad.status).toBe(422);
    expect(calls).toHaveLength(1);
  });

  it("refuses sync runs when the target has no sync base", async () => {
    const { proxy, calls } = setup({ target: "https://api.chainhub.tech" });
    const response = await proxy(post(`https://fal.run/${T2I}`, VALID));
    expect(response.status).toBe(403);
    expect(calls).toHaveLength(0);
  });
});

describe("refusing everything else, without calling upstream", () => {
  const offSpec: Array<[string, string, string]> = [
    ["POST", `${QUEUE}/fal-ai/flux/dev`, "another model"],
    ["POST", `${QUEUE}/fal-ai/flux-pro/v1.1-ultra`, "a sibling model on the same app"],
    ["GET", `${QUEUE}/${T2I}`, "GET on a submit path"],
    ["PUT", `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}`, "PUT on the result path"],
    ["POST", `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/cancel`, "POST on cancel"],
    ["GET", `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/logs`, "an unknown sub-resource"],
    ["GET", `${QUEUE}/fal-ai/flux-pro/kontext/requests/${REQUEST_ID}/status`, "status on the endpoint's sub-path"],
    ["GET", `${QUEUE}/fal-ai/flux-pro/requests/..%2F..%2Fadmin/status`, "an encoded traversal"],
    ["GET", `${QUEUE}/fal-ai/flux-pro/requests/a.b/status`, "a request id with a dot"],
    ["POST", `${QUEUE}/${T2I}/`, "a trailing slash"],
    ["POST", `${QUEUE}//${T2I}`, "an empty segment"],
    ["POST", "https://rest.fal.ai/storage/upload/initiate", "fal's storage API"],
  ];
  for (const [method, target, why] of offSpec) {
    it(`refuses ${why}`, async () => {
      const { proxy, calls } = setup();
      const response = await proxy(
        browser(PROXY, {
          method,
          target,
          ...(method !== "GET" ? { body: "{}", headers: { "content-type": "application/json" } } : {}),
        }),
      );
      expect([400, 403]).toContain(response.status);
      expect(calls).toHaveLength(0);
    });
  }

  const otherHosts = [
    "https://evil.example.com/fal-ai/flux-pro/kontext/text-to-image",
    "http://queue.fal.run/fal-ai/flux-pro/kontext/text-to-image",
    "https://queue.fal.run.evil.com/fal-ai/flux-pro/kontext/text-to-image",
    "https://user:pass@queue.fal.run/fal-ai/flux-pro/kontext/text-to-image",
    "https://rest.alpha.fal.ai/tokens/",
    "not a url",
  ];
  for (const target of otherHosts) {
    it(`refuses x-fal-target-url ${target}`, async () => {
      const { proxy, calls } = setup();
      const response = await proxy(post(target, VALID));
      expect([400, 403]).toContain(response.status);
      expect((await response.json()).error_type).toMatch(/^proxy_/);
      expect(calls).toHaveLength(0);
    });
  }

  it("refuses endpoints outside `allow`", async () => {
    const { proxy, calls } = setup({ allow: ["fal-ai/flux-pro/kontext/max"] });
    expect((await proxy(post(`${QUEUE}/${T2I}`, VALID))).status).toBe(403);
    expect(calls).toHaveLength(0);
  });

  it("rejects an unknown id in `allow`, and odd targets, when the proxy is created", () => {
    expect(() => createKontextProxy({ allow: ["fal-ai/flux/dev" as never] })).toThrow(/unknown endpoint id/);
    expect(() => createKontextProxy({ target: "queue.fal.run" })).toThrow(/absolute URL/);
    expect(() => createKontextProxy({ target: "file:///etc" })).toThrow(/http/);
    expect(() => createKontextProxy({ target: "https://u:p@gateway.example.com" })).toThrow(/credentials/);
    // The error names the option and the rule, never the credentials in the URL.
    expect(() => createKontextProxy({ target: "https://user:gateway-token-123@gateway.example.com" })).toThrow(
      KontextProxyConfigError,
    );
    expect(() => createKontextProxy({ target: "https://user:gateway-token-123@gateway.example.com" })).not.toThrow(
      /gateway-token-123/,
    );
    expect(() => createKontextProxy({ maxBodyBytes: Number.NaN })).toThrow(/maxBodyBytes/);
  });

  it("refuses other methods (OPTIONS, DELETE, HEAD) with 405", async () => {
    const { proxy, calls } = setup();
    for (const method of ["OPTIONS", "DELETE", "HEAD", "PATCH"]) {
      const response = await proxy(browser(PROXY, { method, target: `${QUEUE}/${T2I}` }));
      expect(response.status).toBe(405);
    }
    expect(calls).toHaveLength(0);
  });

  it("rejects invalid inputs with a fal-shaped 422", async () => {
    const { proxy, calls } = setup();
    const response = await proxy(post(`${QUEUE}/${T2I}`, { prompt: "x", num_images: 9, safety_tolerance: 2, bogus: true }));
    expect(response.status).toBe(422);
    const body = await response.json();
    expect(body.detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["body", "num_images"], type: "maximum", msg: expect.stringContaining("num_images") }),
        expect.objectContaining({ loc: ["body", "safety_tolerance"], type: "type" }),
        expect.objectContaining({ loc: ["body", "bogus"] }),
      ]),
    );
    for (const item of body.detail) expect(Object.keys(item).sort()).toEqual(["loc", "msg", "type"]);
    expect(calls).toHaveLength(0);
  });

  it("names the missing field and array indices in loc", async () => {
    const { proxy } = setup();
    const response = await proxy(post(`${QUEUE}/fal-ai/flux-pro/kontext/max/multi`, { prompt: "x", image_urls: ["ftp://nope"] }));
    const body = await response.json();
    expect(body.detail.map((d: { loc: unknown }) => d.loc)).toContainEqual(["body", "image_urls", 0]);
    const missing = await (await proxy(post(`${QUEUE}/fal-ai/flux-pro/kontext/max`, { prompt: "x" }))).json();
    expect(missing.detail).toContainEqual(expect.objectContaining({ loc: ["body", "image_url"], type: "required" }));
  });

  it("rejects bodies that are not JSON", async () => {
    const { proxy, calls } = setup();
    const broken = await proxy(post(`${QUEUE}/${T2I}`, "{not json"));
    expect(broken.status).toBe(422);
    expect((await broken.json()).detail[0].type).toBe("json_invalid");
    const form = await proxy(post(`${QUEUE}/${T2I}`, "prompt=x", { "content-type": "application/x-www-form-urlencoded" }));
    expect(form.status).toBe(415);
    expect(calls).toHaveLength(0);
  });

  it("forwards exactly the validated value (duplicate keys cannot sneak past)", async () => {
    const { proxy, calls } = setup();
    const response = await proxy(post(`${QUEUE}/${T2I}`, '{"prompt":"a","num_images":1,"num_images":2}'));
    expect(response.status).toBe(200);
    expect(calls[0]!.body).toBe('{"prompt":"a","num_images":2}');
  });
});

describe("body size limits", () => {
  const big = (bytes: number) => JSON.stringify({ prompt: "x".repeat(bytes) });

  it("defaults to 10 MiB, the spec's bound", () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(10 * 1024 * 1024);
  });

  it("answers 413 for a body over maxBodyBytes", async () => {
    const { proxy, calls } = setup({ maxBodyBytes: 1000 });
    const response = await proxy(post(`${QUEUE}/${T2I}`, big(2000)));
    expect(response.status).toBe(413);
    expect((await response.json()).error_type).toBe("request_too_large");
    expect(calls).toHaveLength(0);
  });

  it("counts streamed bytes rather than trusting Content-Length", async () => {
    const { proxy, calls } = setup({ maxBodyBytes: 1000 });
    let pulled = 0;
    const chunk = new TextEncoder().encode("x".repeat(400));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 50) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const request = browser(PROXY, {
      method: "POST",
      target: `${QUEUE}/${T2I}`,
      // A lie: the body is far longer than declared.
      headers: { "content-type": "application/json", "content-length": "10" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    const response = await proxy(request);
    expect(response.status).toBe(413);
    expect(calls).toHaveLength(0);
    // It stopped reading soon after the limit instead of draining the whole stream.
    expect(pulled).toBeLessThan(10);
  });

  it("refuses early when Content-Length already says too much", async () => {
    const { proxy, calls } = setup({ maxBodyBytes: 10 });
    const request = new Request(PROXY, {
      method: "POST",
      headers: {
        origin: APP,
        "x-fal-target-url": `${QUEUE}/${T2I}`,
        "content-length": "999999",
        "content-type": "application/json",
      },
      body: new ReadableStream({
        pull() {
          throw new Error("the body should not be read");
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect((await proxy(request)).status).toBe(413);
    expect(calls).toHaveLength(0);
  });

  it("accepts a body just under the limit", async () => {
    const body = big(500);
    const { proxy, calls } = setup({ maxBodyBytes: new TextEncoder().encode(body).byteLength });
    expect((await proxy(post(`${QUEUE}/${T2I}`, body))).status).toBe(200);
    expect(calls).toHaveLength(1);
  });
});

describe("who may use it (default authorize = same origin)", () => {
  it("refuses a request with neither Origin nor Sec-Fetch-Site", async () => {
    const { proxy, calls } = setup();
    const request = new Request(PROXY, {
      method: "POST",
      headers: { "x-fal-target-url": `${QUEUE}/${T2I}`, "content-type": "application/json", authorization: "Key whatever" },
      body: JSON.stringify(VALID),
    });
    const response = await proxy(request);
    expect(response.status).toBe(403);
    expect((await response.json()).error_type).toBe("proxy_forbidden");
    expect(calls).toHaveLength(0);
  });

  it("refuses another site's origin, and cross-site fetches", async () => {
    const { proxy, calls } = setup();
    const evil = new Request(PROXY, {
      method: "POST",
      headers: { origin: "https://evil.example.com", "x-fal-target-url": `${QUEUE}/${T2I}`, "content-type": "application/json" },
      body: JSON.stringify(VALID),
    });
    const refused = await proxy(evil);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error_type).toBe("proxy_forbidden");
    const crossSite = new Request(PROXY, { headers: { origin: APP, "sec-fetch-site": "cross-site" } });
    expect(isSameOriginRequest(crossSite)).toBe(false);
    expect(isSameOriginRequest(new Request(PROXY, { headers: { origin: "null" } }))).toBe(false);
    expect(calls).toHaveLength(0);
  });

  it("accepts same-origin requests by Origin or by Sec-Fetch-Site alone", () => {
    expect(isSameOriginRequest(new Request(PROXY, { headers: { origin: APP } }))).toBe(true);
    expect(isSameOriginRequest(new Request(PROXY, { headers: { "sec-fetch-site": "same-origin" } }))).toBe(true);
    expect(isSameOriginRequest(new Request(PROXY, { headers: { "sec-fetch-site": "same-site" } }))).toBe(false);
  });

  it("accepts allowedOrigins (a proxy behind a reverse proxy)", async () => {
    const { proxy, calls } = setup({ allowedOrigins: ["https://www.example.com"] });
    const request = new Request("http://10.0.0.5:3000/api/fal/proxy", {
      method: "POST",
      headers: { origin: "https://www.example.com", "x-fal-target-url": `${QUEUE}/${T2I}`, "content-type": "application/json" },
      body: JSON.stringify(VALID),
    });
    expect((await proxy(request)).status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it("lets a custom authorize decide, or answer itself", async () => {
    const sessions = new Set(["good"]);
    const { proxy, calls } = setup({
      authorize: (request) => {
        const session = request.headers.get("cookie")?.match(/session=(\w+)/)?.[1];
        if (!session) return new Response("log in first", { status: 401 });
        return sessions.has(session);
      },
    });
    const make = (cookie?: string) =>
      new Request(PROXY, {
        method: "POST",
        headers: { "x-fal-target-url": `${QUEUE}/${T2I}`, "content-type": "application/json", ...(cookie ? { cookie } : {}) },
        body: JSON.stringify(VALID),
      });
    expect((await proxy(make())).status).toBe(401);
    expect((await proxy(make("session=bad"))).status).toBe(403);
    expect((await proxy(make("session=good"))).status).toBe(200);
    expect(calls).toHaveLength(1);
    // Cookies are for the proxy, never for upstream.
    expect(calls[0]!.headers.cookie).toBeUndefined();
  });
});

describe("authorizeOperation", () => {
  it("decides per operation before the body is read: false → 403, a Response is sent as is", async () => {
    const { proxy, calls } = setup({
      authorizeOperation: (operation) =>
        operation.kind === "submit" && operation.endpoint === T2I
          ? new Response("upgrade your plan", { status: 402 })
          : operation.kind !== "cancel",
    });
    // Even an invalid body is not looked at: the operation is refused first.
    const refused = await proxy(post(`${QUEUE}/${T2I}`, { prompt: "" }));
    expect(refused.status).toBe(402);
    expect(await refused.text()).toBe("upgrade your plan");
    const cancel = await proxy(
      browser(PROXY, { method: "PUT", target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/cancel` }),
    );
    expect(cancel.status).toBe(403);
    expect(calls).toHaveLength(0);
    const status = await proxy(browser(PROXY, { target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status` }));
    expect(status.status).toBe(202);
    expect(calls).toHaveLength(1);
  });
});

describe("keeping the key and the browser's secrets where they belong", () => {
  it("forwards only safe request headers", async () => {
    const { proxy, calls } = setup();
    await proxy(
      post(`${QUEUE}/${T2I}`, VALID, {
        authorization: "Bearer stolen",
        cookie: "session=abc",
        "x-fal-request-timeout": "30",
        "x-fal-runner-hint": "eu",
        "x-fal-auth-token": "t",
        "x-fal-key": "k",
        "x-forwarded-for": "1.2.3.4",
        "user-agent": "browser",
        accept: "application/json",
      }),
    );
    const headers = calls[0]!.headers;
    expect(Object.keys(headers).sort()).toEqual(
      ["accept", "authorization", "content-type", "x-fal-request-timeout", "x-fal-runner-hint"].sort(),
    );
    expect(headers.authorization).toBe(`Key ${KEY}`);
  });

  it("forwards only safe response headers", async () => {
    const { proxy } = setup();
    const response = await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(response.headers.get("server")).toBeNull();
    expect(response.headers.get("x-fal-request-id")).toBe(REQUEST_ID);
  });

  it("never returns the key, even when upstream echoes it in an error", async () => {
    const echo = fakeUpstream((call) =>
      Response.json(
        { detail: `bad credentials: ${call.headers.authorization}`, error_type: "unauthorized" },
        { status: 401, headers: { "x-debug-auth": call.headers.authorization!, "x-fal-error-type": "unauthorized" } },
      ),
    );
    const proxy = createKontextProxy({ ...HOSTS, credentials: KEY, fetch: echo.fetch });
    const responses = [
      await proxy(post(`${QUEUE}/${T2I}`, VALID)),
      await proxy(browser(PROXY, { target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}` })),
      await proxy(browser(PROXY, { target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status/stream` })),
    ];
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.headers.get("x-fal-error-type")).toBe("unauthorized");
      const text = await everything(response);
      expect(text).not.toContain(KEY);
      expect(text).not.toContain("super-secret-value-5678");
      expect(text).toContain("[redacted]");
    }
  });

  it("never returns the key in any answer of a normal session", async () => {
    const { proxy } = setup();
    const base = `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}`;
    const requests = [
      post(`${QUEUE}/${T2I}`, VALID),
      post(`${QUEUE}/${T2I}`, { prompt: 1 }),
      post("https://evil.example.com/x", VALID),
      browser(PROXY, { target: `${base}/status` }),
      browser(PROXY, { target: base }),
      browser(PROXY, { method: "PUT", target: `${base}/cancel` }),
      new Request(PROXY),
    ];
    for (const request of requests) {
      const text = await everything(await proxy(request));
      expect(text).not.toContain("super-secret-value-5678");
      expect(text).not.toContain("key-id-1234");
    }
  });

  it("does not follow upstream redirects (they would carry the key elsewhere)", async () => {
    const redirecting = fakeUpstream(
      () => new Response(null, { status: 307, headers: { location: "https://evil.example.com/" } }),
    );
    const proxy = createKontextProxy({ ...HOSTS, credentials: KEY, fetch: redirecting.fetch });
    const response = await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(response.status).toBe(502);
    expect(response.headers.get("location")).toBeNull();
  });

  it("answers 500 without calling upstream when it has no credentials", async () => {
    const { proxy, calls } = setup({ credentials: () => undefined });
    const response = await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(response.status).toBe(500);
    expect((await response.json()).error_type).toBe("proxy_misconfigured");
    expect(calls).toHaveLength(0);
  });

  it("reads credentials per request from a function", async () => {
    let n = 0;
    const { proxy, calls } = setup({ credentials: async () => `rotating-key-${++n}` });
    await proxy(post(`${QUEUE}/${T2I}`, VALID));
    await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(calls.map((c) => c.headers.authorization)).toEqual(["Key rotating-key-1", "Key rotating-key-2"]);
  });

  it("answers 502 when upstream cannot be reached, without details (they go to onError)", async () => {
    const errors: unknown[] = [];
    const proxy = createKontextProxy({
      ...HOSTS,
      credentials: KEY,
      fetch: async () => {
        throw new TypeError(`fetch failed for Key ${KEY}`);
      },
      onError: (error) => errors.push(error),
    });
    const response = await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(response.status).toBe(502);
    expect(await response.text()).not.toContain(KEY);
    expect(errors).toHaveLength(1);
    // The operator's copy is redacted too: message, stack, JSON and inspect output.
    const reported = errors[0] as Error;
    expect(reported).toBeInstanceOf(TypeError);
    expect(reported.message).toBe("fetch failed for Key [redacted]");
    for (const shown of [reported.message, String(reported.stack), JSON.stringify(reported), inspect(reported)]) {
      expect(shown).not.toContain(KEY);
    }
  });

  it("answers 500 when authorize throws, and reports it", async () => {
    const errors: unknown[] = [];
    const { proxy, calls } = setup({
      authorize: () => {
        throw new Error("session store down");
      },
      onError: (error) => errors.push(error),
    });
    const response = await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("session store");
    expect((errors[0] as Error).message).toBe("session store down");
    expect(calls).toHaveLength(0);
  });

  it("validates before asking for credentials", async () => {
    let asked = 0;
    const { proxy } = setup({
      credentials: () => {
        asked++;
        return KEY;
      },
    });
    expect((await proxy(post(`${QUEUE}/${T2I}`, { prompt: "" }))).status).toBe(422);
    expect((await proxy(post("https://evil.example.com/x", VALID))).status).toBe(403);
    expect(asked).toBe(0);
  });
});

describe("cancellation", () => {
  it("passes the caller's abort on to the upstream call", async () => {
    let upstreamSignal: AbortSignal | undefined;
    const proxy = createKontextProxy({
      ...HOSTS,
      credentials: KEY,
      fetch: async (_input, init) => {
        upstreamSignal = init?.signal ?? undefined;
        return new Response(new ReadableStream(), { headers: { "content-type": "text/event-stream" } });
      },
    });
    const controller = new AbortController();
    const response = await proxy(
      browser(PROXY, { target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status/stream`, signal: controller.signal }),
    );
    expect(response.status).toBe(200);
    expect(upstreamSignal?.aborted).toBe(false);
    controller.abort();
    expect(upstreamSignal?.aborted).toBe(true);
  });
});

describe("webhooks through the proxy", () => {
  it("refuses a caller's fal_webhook by default", async () => {
    const { proxy, calls } = setup();
    const response = await proxy(post(`${QUEUE}/${T2I}?fal_webhook=https://evil.example.com/hook`, VALID));
    expect(response.status).toBe(403);
    expect(calls).toHaveLength(0);
  });

  it("lets a policy vet the caller's webhook", async () => {
    const { proxy, calls } = setup({ allowClientWebhooks: (url) => url.startsWith("https://app.example.com/") });
    expect((await proxy(post(`${QUEUE}/${T2I}?fal_webhook=https://evil.example.com/hook`, VALID))).status).toBe(403);
    const ok = await proxy(post(`${QUEUE}/${T2I}?fal_webhook=https://app.example.com/api/hook`, VALID));
    expect(ok.status).toBe(200);
    expect(new URL(calls[0]!.url).searchParams.get("fal_webhook")).toBe("https://app.example.com/api/hook");
  });

  it("adds the server's webhookUrl to every submit", async () => {
    const { proxy, calls } = setup({ webhookUrl: "https://app.example.com/api/fal/webhook" });
    await proxy(post(`${QUEUE}/${T2I}`, VALID));
    expect(new URL(calls[0]!.url).searchParams.get("fal_webhook")).toBe("https://app.example.com/api/fal/webhook");
  });
});

describe("direct paths", () => {
  it("serves {mount}/{queue path} and {mount}/sync/{endpoint id}", async () => {
    const { proxy, calls } = setup();
    const submit = await proxy(
      browser(`${PROXY}/${T2I}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(VALID),
      }),
    );
    expect(submit.status).toBe(200);
    const { status_url } = await submit.json();
    expect(status_url).toBe(`${PROXY}/fal-ai/flux-pro/requests/${REQUEST_ID}/status`);
    // The rewritten URL works as is.
    expect((await proxy(browser(`${status_url}?logs=1`))).status).toBe(202);
    const run = await proxy(
      browser(`${PROXY}/sync/${T2I}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(VALID),
      }),
    );
    expect(run.status).toBe(200);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `POST ${QUEUE}/${T2I}`,
      `GET ${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status?logs=1`,
      `POST https://fal.run/${T2I}`,
    ]);
  });

  it("uses basePath when given, and refuses paths outside it", async () => {
    const { proxy, calls } = setup({ basePath: "/api/fal/proxy/" });
    expect((await proxy(browser(`${PROXY}/fal-ai/flux-pro/requests/${REQUEST_ID}`))).status).toBe(200);
    expect((await proxy(browser(`${APP}/other/fal-ai/flux-pro/requests/${REQUEST_ID}`))).status).toBe(403);
    expect((await proxy(browser(`${PROXY}/fal-ai/flux/dev/requests/${REQUEST_ID}`))).status).toBe(403);
    expect(calls).toHaveLength(1);
  });

  it("refuses a bare mount without x-fal-target-url", async () => {
    const { proxy, calls } = setup();
    expect((await proxy(browser(PROXY))).status).toBe(403);
    expect(calls).toHaveLength(0);
  });
});

describe("toRouteHandlers (Next.js app routes)", () => {
  it("serves GET, POST and PUT from one proxy, ignoring the route context", async () => {
    const { proxy, calls } = setup();
    const { GET, POST, PUT } = toRouteHandlers(proxy);
    const base = `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}`;
    const context = { params: Promise.resolve({ path: [] }) };
    const call = (handler: (request: Request) => Promise<Response>, request: Request) =>
      (handler as (request: Request, context: unknown) => Promise<Response>)(request, context);
    expect((await call(POST, post(`${QUEUE}/${T2I}`, VALID))).status).toBe(200);
    expect((await call(GET, browser(PROXY, { target: `${base}/status` }))).status).toBe(202);
    expect((await call(PUT, browser(PROXY, { method: "PUT", target: `${base}/cancel` }))).status).toBe(202);
    expect(calls.map((c) => c.method)).toEqual(["POST", "GET", "PUT"]);
  });
});

/** An upstream event stream the test writes to as it goes. */
function eventSource() {
  const encoder = new TextEncoder();
  let output!: ReadableStreamDefaultController<Uint8Array>;
  const events = new ReadableStream<Uint8Array>({
    start(controller) {
      output = controller;
    },
  });
  return { events, push: (text: string) => output.enqueue(encoder.encode(text)), close: () => output.close() };
}

describe("the status stream", () => {
  it("passes server-sent events through as they arrive, without buffering", async () => {
    const { events, push, close } = eventSource();
    const upstream = fakeUpstream(
      () => new Response(events, { headers: { "content-type": "text/event-stream", "x-fal-request-id": REQUEST_ID } }),
    );
    const proxy = createKontextProxy({ ...HOSTS, credentials: KEY, fetch: upstream.fetch });
    const response = await proxy(
      browser(PROXY, {
        target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status/stream?logs=1`,
        headers: { accept: "text/event-stream" },
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(upstream.calls[0]!.url).toContain("/status/stream?logs=1");
    expect(upstream.calls[0]!.headers.accept).toBe("text/event-stream");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    // The first event reaches the browser while upstream is still open: nothing waits for the end.
    push(`data: {"status":"IN_QUEUE","request_id":"${REQUEST_ID}","queue_position":0}\n\n`);
    expect((await reader.read()).value).toContain("IN_QUEUE");
    push(`data: {"status":"COMPLETED","request_id":"${REQUEST_ID}"}\n\n`);
    expect((await reader.read()).value).toContain("COMPLETED");
    close();
    expect((await reader.read()).done).toBe(true);
  });

  it("rewrites the URLs inside events, even when a line is split across chunks", async () => {
    const { events, push, close } = eventSource();
    const upstream = fakeUpstream(() => new Response(events, { headers: { "content-type": "text/event-stream" } }));
    const proxy = createKontextProxy({ ...HOSTS, credentials: KEY, fetch: upstream.fetch });
    const response = await proxy(browser(PROXY, { target: `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status/stream` }));
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const upstreamUrl = `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}/status`;
    push(`: keep-alive\r\ndata: {"status":"IN_QUEUE","request_id":"${REQUEST_ID}","status_url":"${upstreamUrl.slice(0, 20)}`);
    // The complete comment line goes out at once; the half line waits for its end.
    expect((await reader.read()).value).toBe(": keep-alive\r\n");
    push(`${upstreamUrl.slice(20)}"}\r\n\r\n`);
    const event = (await reader.read()).value!;
    expect(event).toBe(
      `data: {"status":"IN_QUEUE","request_id":"${REQUEST_ID}","status_url":"${PROXY}/fal-ai/flux-pro/requests/${REQUEST_ID}/status"}\r\n\r\n`,
    );
    push("data: not json\n\n");
    expect((await reader.read()).value).toBe("data: not json\n\n");
    close();
    expect((await reader.read()).done).toBe(true);
  });
});

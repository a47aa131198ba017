/**
 * Issue 16, "Proxy": storage uploads only when the operator opts in, with their own size cap, and the
 * key never handed to the browser. Every refusal here must happen before upstream is called.
 */
import { describe, expect, it } from "vitest";
import {
  createKontextProxy,
  DEFAULT_MAX_INITIATE_BYTES,
  KontextProxyConfigError,
  type KontextProxyOptions,
  type ProxyOperation,
} from "../../src/proxy.js";
import type { UpstreamCall, UpstreamReply } from "../support/fake-upstream.js";
import { APP, keyForms, PROXY, PROXY_KEY, pageRequest, QUEUE, readAll, testProxy } from "../support/proxy-requests.js";

const REST = "https://rest.fal.ai";
const INITIATE = `${REST}/storage/upload/initiate?storage_type=fal-cdn-v3`;
const MULTIPART = `${REST}/storage/upload/initiate-multipart?storage_type=fal-cdn-v3`;
const FILE = { content_type: "image/jpeg", file_name: "cat.jpg" };
const SIGNED = {
  upload_url: "https://v3.fal.media/files/upload/abc?signature=xyz",
  file_url: "https://v3.fal.media/files/abc/cat.jpg",
};

/** fal's storage host as the fake upstream answers it. */
const storageReply: UpstreamReply = () => Response.json(SIGNED);

/** A proxy that records refusals, in front of a fake storage host. */
function setup(options: Partial<KontextProxyOptions> = {}, reply: UpstreamReply = storageReply) {
  const refused: string[] = [];
  const { proxy, calls } = testProxy({ onRefused: (reason) => refused.push(reason), ...options }, reply);
  return { proxy, calls, refused };
}

/** An initiate as a same-origin page sends it. */
function initiate(body: unknown, init: { target?: string; url?: string; headers?: Record<string, string> } = {}): Request {
  return pageRequest(init.url ?? PROXY, APP, {
    method: "POST",
    target: init.url ? undefined : (init.target ?? INITIATE),
    headers: { "content-type": "application/json", ...init.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("storage off (the default): a clear refusal, nothing upstream", () => {
  const shapes: Array<[string, () => Request]> = [
    ["x-fal-target-url on fal's REST host", () => initiate(FILE)],
    ["the multipart initiate", () => initiate(FILE, { target: MULTIPART })],
    ["a direct path under the mount", () => initiate(FILE, { url: `${PROXY}/storage/upload/initiate?storage_type=fal-cdn-v3` })],
    ["the initiate path on the queue target", () => initiate(FILE, { target: `${QUEUE}/storage/upload/initiate` })],
  ];
  for (const [name, request] of shapes) {
    it(`${name}: 403 storage_not_allowed, saying how to enable it`, async () => {
      const { proxy, calls, refused } = setup();
      const response = await proxy(request());
      expect(response.status).toBe(403);
      expect(response.headers.get("x-fal-error-type")).toBe("proxy_storage_not_allowed");
      const body = (await response.json()) as { detail: string; reason: string; error_type: string };
      expect(body.reason).toBe("storage_not_allowed");
      expect(body.detail).toContain("storage: true");
      expect(body.detail).toContain("createKontextProxy");
      expect(refused).toEqual(["storage_not_allowed"]);
      expect(calls).toEqual([]);
    });
  }

  it("other paths on fal's REST host are still 'not a host this proxy serves', not the storage hint", async () => {
    const { proxy, calls, refused } = setup();
    const response = await proxy(initiate({}, { target: `${REST}/tokens/` }));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { reason: string }).reason).toBe("target_not_allowed");
    expect(refused).toEqual(["target_not_allowed"]);
    expect(calls).toEqual([]);
  });

  it("storage: false is off too", async () => {
    const { proxy, calls } = setup({ storage: false });
    expect((await proxy(initiate(FILE))).status).toBe(403);
    expect(calls).toEqual([]);
  });
});

describe("storage on: what goes upstream", () => {
  it("the initiate reaches fal's storage host with the server's key, only the two fields and storage_type", async () => {
    const { proxy, calls } = setup({ storage: true });
    const response = await proxy(
      initiate(
        { ...FILE, extra: "dropped", acl: "public" },
        {
          target: `${INITIATE}&other=1`,
          headers: {
            authorization: "Key browser-key",
            cookie: "session=1",
            "x-fal-object-lifecycle": '{"expiration_duration_seconds":60}',
          },
        },
      ),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(SIGNED);
    expect(calls).toHaveLength(1);
    const [call] = calls as [UpstreamCall];
    expect(call.method).toBe("POST");
    expect(call.url).toBe(`${REST}/storage/upload/initiate?storage_type=fal-cdn-v3`);
    expect(call.headers.authorization).toBe(`Key ${PROXY_KEY}`);
    expect(call.headers.cookie).toBeUndefined();
    expect(call.headers["x-fal-target-url"]).toBeUndefined();
    expect(call.headers["content-type"]).toBe("application/json");
    expect(call.headers["x-fal-object-lifecycle"]).toBe('{"expiration_duration_seconds":60}');
    expect(JSON.parse(call.body ?? "")).toEqual(FILE);
  });

  it("a storage_type other than fal-cdn-v3 is dropped, not passed on", async () => {
    const { proxy, calls } = setup({ storage: true });
    await proxy(initiate(FILE, { target: `${REST}/storage/upload/initiate?storage_type=gcs` }));
    expect(calls.map((call) => call.url)).toEqual([`${REST}/storage/upload/initiate`]);
  });

  it("fal's REST host is mapped onto storage.target; the multipart initiate keeps its path", async () => {
    const target = "http://127.0.0.1:9/gateway";
    const { proxy, calls } = setup({ target: { queue: "http://127.0.0.1:9" }, storage: { target } });
    expect((await proxy(initiate(FILE, { target: MULTIPART }))).status).toBe(200);
    expect((await proxy(initiate(FILE, { target: `${target}/storage/upload/initiate` }))).status).toBe(200);
    expect(calls.map((call) => call.url)).toEqual([
      `${target}/storage/upload/initiate-multipart?storage_type=fal-cdn-v3`,
      `${target}/storage/upload/initiate`,
    ]);
  });

  it("authorizeOperation sees the upload (and may refuse it before upstream)", async () => {
    const seen: ProxyOperation[] = [];
    const { proxy, calls, refused } = setup({
      storage: true,
      authorizeOperation: (operation) => {
        seen.push(operation);
        return operation.kind !== "upload" || !operation.multipart;
      },
    });
    expect((await proxy(initiate(FILE))).status).toBe(200);
    expect((await proxy(initiate(FILE, { target: MULTIPART }))).status).toBe(403);
    expect(seen).toEqual([
      { kind: "upload", multipart: false },
      { kind: "upload", multipart: true },
    ]);
    expect(refused).toEqual(["operation_refused"]);
    expect(calls).toHaveLength(1);
  });

  it("the access policy applies: another site's page and an unknown host are refused first", async () => {
    const { proxy, calls, refused } = setup({ storage: true });
    const evil = pageRequest(PROXY, "https://evil.example", {
      method: "POST",
      target: INITIATE,
      body: JSON.stringify(FILE),
    });
    expect((await proxy(evil)).status).toBe(403);
    const rebound = pageRequest("https://rebound.example/api/fal/proxy", "https://rebound.example", {
      method: "POST",
      target: INITIATE,
      body: JSON.stringify(FILE),
    });
    expect((await proxy(rebound)).status).toBe(403);
    expect(refused).toEqual(["origin_not_allowed", "host_not_allowed"]);
    expect(calls).toEqual([]);
  });
});

describe("storage on: what is refused before upstream", () => {
  it("a body over maxInitiateBytes (8 KiB by default) is 413, declared or streamed", async () => {
    expect(DEFAULT_MAX_INITIATE_BYTES).toBe(8 * 1024);
    const { proxy, calls, refused } = setup({ storage: true });
    const big = { content_type: "image/jpeg", file_name: `${"a".repeat(9000)}.jpg` };
    expect((await proxy(initiate(big))).status).toBe(413);
    // No Content-Length: the bytes are counted as they arrive.
    const text = new TextEncoder().encode(JSON.stringify(big));
    const chunked = pageRequest(PROXY, APP, {
      method: "POST",
      target: INITIATE,
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(text.slice(0, 4000));
          controller.enqueue(text.slice(4000));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    expect((await proxy(chunked)).status).toBe(413);
    expect(refused).toEqual(["body_too_large", "body_too_large"]);
    expect(calls).toEqual([]);
  });

  it("maxInitiateBytes sets the cap", async () => {
    const { proxy, calls } = setup({ storage: { maxInitiateBytes: 40 } });
    expect((await proxy(initiate({ content_type: "image/jpeg", file_name: "a-long-file-name.jpg" }))).status).toBe(413);
    expect((await proxy(initiate({ content_type: "", file_name: "a.jpg" }))).status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  const invalid: Array<[string, unknown, number, unknown[]]> = [
    ["not JSON", "{content_type:", 422, ["body"]],
    ["an array", [FILE], 422, ["body"]],
    ["a string", JSON.stringify("cat.jpg"), 422, ["body"]],
    ["no file_name", { content_type: "image/jpeg" }, 422, ["body", "file_name"]],
    ["no content_type", { file_name: "cat.jpg" }, 422, ["body", "content_type"]],
    ["a number as file_name", { content_type: "image/jpeg", file_name: 7 }, 422, ["body", "file_name"]],
    ["an object as content_type", { content_type: { type: "image" }, file_name: "a" }, 422, ["body", "content_type"]],
    ["an empty file_name", { content_type: "image/jpeg", file_name: "" }, 422, ["body", "file_name"]],
    ["nesting", { ...FILE, deep: [[[{ a: 1 }]]] }, 422, ["body"]],
  ];
  for (const [name, body, status, loc] of invalid) {
    it(`${name}: ${status} naming ${loc.join(".")}, nothing upstream`, async () => {
      const { proxy, calls } = setup({ storage: true });
      const response = await proxy(initiate(typeof body === "string" ? body : JSON.stringify(body)));
      expect(response.status).toBe(status);
      const answer = (await response.json()) as { detail: Array<{ loc: unknown[] }> };
      expect(answer.detail[0]?.loc).toEqual(loc);
      expect(calls).toEqual([]);
    });
  }

  it("a body that is not JSON by its type is 415", async () => {
    const { proxy, calls } = setup({ storage: true });
    const response = await proxy(initiate(JSON.stringify(FILE), { headers: { "content-type": "image/jpeg" } }));
    expect(response.status).toBe(415);
    expect(calls).toEqual([]);
  });

  it("the bytes can never go through the proxy: PUTs to upload URLs, other methods and other storage paths are refused", async () => {
    const { proxy, calls } = setup({ storage: true });
    const attempts: Array<[string, string]> = [
      ["PUT", `${REST}/storage/upload/initiate`],
      ["GET", INITIATE],
      ["PUT", `${REST}/storage/uploads/abc?signature=xyz`],
      ["POST", `${REST}/storage/upload/complete`],
      ["POST", `${REST}/storage/upload/initiate/../../tokens`],
      ["POST", `${REST}/storage/upload/initiate%2F..`],
      ["POST", `${REST}/tokens/`],
      ["PUT", "https://v3.fal.media/files/upload/abc?signature=xyz"],
    ];
    for (const [method, target] of attempts) {
      const response = await proxy(
        pageRequest(PROXY, APP, { method, target, body: method === "GET" ? undefined : new Uint8Array(1024) }),
      );
      expect([method, target, response.status]).toEqual([method, target, 403]);
    }
    expect(calls).toEqual([]);
  });
});

describe("the key never reaches the browser", () => {
  it("an answer echoing the key (body or header, any form) is scrubbed", async () => {
    const echo: UpstreamReply = (call) =>
      Response.json(
        {
          upload_url: `${SIGNED.upload_url}&k=${encodeURIComponent(PROXY_KEY)}`,
          file_url: SIGNED.file_url,
          auth: call.headers.authorization,
        },
        { headers: { "x-fal-error-type": `echo ${btoa(`Key ${PROXY_KEY}`)}` } },
      );
    const { proxy } = setup({ storage: true }, echo);
    const seen = await readAll(await proxy(initiate(FILE)));
    expect(seen).toContain(SIGNED.file_url);
    for (const form of keyForms(PROXY_KEY)) expect(seen).not.toContain(form);
  });

  it("an upstream error echoing the key is scrubbed, and its status passes through", async () => {
    const failing: UpstreamReply = (call) => Response.json({ detail: `bad key ${call.headers.authorization}` }, { status: 401 });
    const { proxy } = setup({ storage: true }, failing);
    const response = await proxy(initiate(FILE));
    expect(response.status).toBe(401);
    const seen = await readAll(response);
    expect(seen).toContain("[redacted]");
    for (const form of keyForms(PROXY_KEY)) expect(seen).not.toContain(form);
  });

  it("a redirect from the storage host is not followed (it would carry the key)", async () => {
    const { proxy, calls } = setup(
      { storage: true },
      () => new Response(null, { status: 307, headers: { location: "https://evil.example/" } }),
    );
    const response = await proxy(initiate(FILE));
    expect(response.status).toBe(502);
    expect(calls).toHaveLength(1);
  });
});

describe("configuration", () => {
  it("storage with a custom target needs storage.target, so a gateway's token does not go to fal", () => {
    expect(() => createKontextProxy({ credentials: PROXY_KEY, target: "https://gateway.example", storage: true })).toThrow(
      KontextProxyConfigError,
    );
    expect(() => createKontextProxy({ credentials: PROXY_KEY, target: "https://gateway.example", storage: true })).toThrow(
      /storage\.target/,
    );
    expect(() =>
      createKontextProxy({ credentials: PROXY_KEY, target: "https://gateway.example", storage: { target: "https://s.example" } }),
    ).not.toThrow();
  });

  it("a bad storage target or cap throws, naming the option, never the credentials in the URL", () => {
    const attempt = () => createKontextProxy({ storage: { target: "https://user:hunter2@s.example/" } });
    expect(attempt).toThrow(KontextProxyConfigError);
    expect(attempt).not.toThrow(/hunter2/);
    expect(() => createKontextProxy({ storage: { maxInitiateBytes: -1 } })).toThrow(/storage\.maxInitiateBytes/);
    expect(() => createKontextProxy({ storage: { target: "ftp://s.example" } })).toThrow(KontextProxyConfigError);
  });
});

import { describe, expect, it } from "vitest";
import { endpoints } from "../src/index.js";
import { toBase64WithBtoa } from "../src/protocol/bytes.js";
import {
  appPath,
  bodyTooLargeResponse,
  decodeDataUri,
  describeErrorBody,
  falKeyFromEnv,
  fieldName,
  flatErrorResponse,
  fromBase64,
  fromHex,
  initiateKindOf,
  initiatePath,
  issuesFromDetail,
  jsonDepth,
  KontextError,
  locToPointer,
  parseJsonBounded,
  parseRequestPath,
  parseRetryAfter,
  pointerToLoc,
  queuePaths,
  REDACTED,
  readBodyText,
  readCapped,
  redact,
  redactor,
  redactValue,
  retryableHint,
  safeText,
  sleep,
  sniffImageType,
  toBase64,
  toDataUri,
  toHex,
  truncate,
  unreadableBodyResponse,
  webhookSignedMessage,
} from "../src/protocol/index.js";

describe("paths", () => {
  it("status, result and cancel live under owner/app; submit under the full id", () => {
    expect(queuePaths("fal-ai/flux-pro/kontext/max/multi", "abc")).toEqual({
      submit: "/fal-ai/flux-pro/kontext/max/multi",
      status: "/fal-ai/flux-pro/requests/abc/status",
      stream: "/fal-ai/flux-pro/requests/abc/status/stream",
      result: "/fal-ai/flux-pro/requests/abc",
      cancel: "/fal-ai/flux-pro/requests/abc/cancel",
    });
    expect(appPath("workflows/me/my-flow/run")).toBe("workflows/me/my-flow");
    expect(appPath("comfy/me/app")).toBe("comfy/me/app");
  });

  it("agrees with the registry's appPath for every endpoint", () => {
    for (const [id, info] of Object.entries(endpoints)) expect(appPath(id)).toBe(info.appPath);
  });

  it("parses exactly the paths it builds and refuses everything else", () => {
    const paths = queuePaths("fal-ai/flux-pro/kontext", "req-1");
    expect(parseRequestPath("GET", paths.status)).toEqual({
      operation: "status",
      appPath: "fal-ai/flux-pro",
      requestId: "req-1",
    });
    expect(parseRequestPath("GET", paths.stream)?.operation).toBe("stream");
    expect(parseRequestPath("GET", paths.result)?.operation).toBe("result");
    expect(parseRequestPath("PUT", paths.cancel)?.operation).toBe("cancel");
    for (const [method, path] of [
      ["POST", paths.status],
      ["GET", paths.cancel],
      ["GET", "/fal-ai/flux-pro/kontext/requests/req-1"],
      ["GET", "/fal-ai/flux-pro/requests/..%2f/status"],
      ["GET", "/fal-ai/flux-pro/requests/a.b"],
      ["GET", "//evil.example/fal-ai/flux-pro/requests/x"],
      ["GET", "/fal-ai/flux-pro/requests/x/other"],
    ] as const) {
      expect(parseRequestPath(method, path), `${method} ${path}`).toBeUndefined();
    }
  });
});

describe("error bodies", () => {
  it("reads both detail shapes as field issues", () => {
    expect(issuesFromDetail([{ loc: ["body", "image_urls", 0], msg: "bad", type: "value_error", input: "x" }])).toEqual([
      { path: "/image_urls/0", field: "image_urls[0]", value: "x", rule: "value_error", message: "image_urls[0]: bad" },
    ]);
    expect(issuesFromDetail("Field required")).toEqual([
      { path: "", field: "", value: undefined, rule: "server", message: "Field required" },
    ]);
  });

  it("converts between loc, pointer and field names", () => {
    expect(pointerToLoc("/image_urls/2")).toEqual(["image_urls", 2]);
    expect(locToPointer(["body", "a/b", 1])).toBe("/a~1b/1");
    expect(fieldName(["body", "image_urls", 1])).toBe("image_urls[1]");
    expect(fieldName("/loras/0/scale")).toBe("loras[0].scale");
  });

  it("describes any body in one line", () => {
    expect(describeErrorBody({ detail: [{ loc: ["body", "prompt"], msg: "Field required", type: "missing" }] })).toBe(
      "prompt: Field required",
    );
    expect(describeErrorBody({ detail: "User is locked. Reason: Exhausted balance" })).toBe(
      "User is locked. Reason: Exhausted balance",
    );
    expect(describeErrorBody("<html>oops</html>")).toBe("");
  });

  it("answers a flat error with the type in body and header", async () => {
    const response = flatErrorResponse(404, "Request not found", "not_found");
    expect(response.status).toBe(404);
    expect(response.headers.get("x-fal-error-type")).toBe("not_found");
    expect(await response.json()).toEqual({ detail: "Request not found", error_type: "not_found" });
  });
});

describe("headers", () => {
  it("reads Retry-After as seconds or a date, never negative", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 4000)).toBe(6000);
    expect(parseRetryAfter("Thu, 01 Jan 1970 00:00:01 GMT", 4000)).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("reads X-Fal-Retryable", () => {
    expect(retryableHint("true")).toBe(true);
    expect(retryableHint("0")).toBe(false);
    expect(retryableHint(null)).toBeUndefined();
  });
});

describe("text", () => {
  const key = "key-id-123:s3cr3t-secret-part-abcdef";

  it("redacts every form of a secret before cutting, so no part survives the cut", () => {
    const echoed = `${"x".repeat(100)} Authorization: Key ${key} and ${encodeURIComponent(key)} and ${btoa(`Key ${key}`)}`;
    const text = safeText(echoed, [key], 120);
    expect(text).not.toContain("s3cr3t");
    expect(redact(echoed, [key])).not.toMatch(/s3cr3t|czNjcjN0/);
    expect(redact(`only the secret half: s3cr3t-secret-part-abcdef`, [key])).toBe(`only the secret half: ${REDACTED}`);
  });

  it("redacts deep values and leaves short strings alone", () => {
    expect(redactValue({ a: [{ b: `x ${key} y` }], n: 1 }, [key])).toEqual({ a: [{ b: `x ${REDACTED} y` }], n: 1 });
    // A redactor made once redacts like redact(), string after string, every secret given.
    const clean = redactor([undefined, key, "other-secret-value"]);
    expect(clean(`a ${key} b`)).toBe(`a ${REDACTED} b`);
    expect(clean(`c ${btoa(`Key ${key}`)} other-secret-value`)).toBe(`c ${REDACTED} ${REDACTED}`);
    expect(redactor([])("nothing to cut")).toBe("nothing to cut");
    expect(redact("abc abc", ["abc"])).toBe("abc abc");
  });

  it("truncates to one line", () => {
    expect(truncate("a\n b   c", 10)).toBe("a b c");
    expect(truncate("x".repeat(20), 10)).toBe("xxxxxxx...");
  });
});

describe("json", () => {
  it("measures depth outside strings and refuses deep texts before parsing", () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[["}]}')).toBe(3);
    const deep = `${"[".repeat(500_000)}${"]".repeat(500_000)}`;
    expect(parseJsonBounded(deep, 64)).toMatchObject({ ok: false, reason: "too_deep", limit: 64 });
    expect(parseJsonBounded("{", 64)).toMatchObject({ ok: false, reason: "invalid" });
    expect(parseJsonBounded('{"a":1}', 64)).toEqual({ ok: true, value: { a: 1 } });
  });
});

describe("bytes and images", () => {
  it("round-trips base64 and hex", () => {
    const bytes = new Uint8Array([0, 1, 254, 255, 128]);
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
    expect(fromBase64(toBase64(bytes).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"))).toEqual(bytes);
    expect(fromHex(toHex(bytes))).toEqual(bytes);
    expect(fromHex("zz")).toBeUndefined();
  });

  it("encodes base64 natively where it can, exactly as the portable btoa path does (views with an offset too)", () => {
    const whole = new Uint8Array(200_001).map((_, index) => (index * 7919) % 256);
    const view = whole.subarray(3, 100_003);
    for (const bytes of [whole, view, new Uint8Array(0), new Uint8Array([255])]) {
      expect(toBase64(bytes)).toBe(toBase64WithBtoa(bytes));
    }
    expect(toBase64(view)).toBe(Buffer.from(view).toString("base64"));
    // Node has Buffer, so btoa (Node's slow legacy path) is not used at all.
    const btoa = globalThis.btoa;
    globalThis.btoa = () => {
      throw new Error("btoa called");
    };
    try {
      expect(toBase64(view)).toBe(Buffer.from(view).toString("base64"));
    } finally {
      globalThis.btoa = btoa;
    }
  });

  it("sniffs image types and builds data URIs", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]);
    const avif = new Uint8Array([0, 0, 0, 0x1c, ...new TextEncoder().encode("ftypavif")]);
    expect(sniffImageType(png)).toBe("image/png");
    expect(sniffImageType(avif)).toBe("image/avif");
    expect(sniffImageType(new TextEncoder().encode("hello"))).toBeUndefined();
    const uri = toDataUri(png, "image/png");
    expect(decodeDataUri(uri)).toEqual({ mime: "image/png", bytes: png });
    expect(decodeDataUri(uri.replace("data:image/png", "DATA:IMAGE/PNG"))?.mime).toBe("image/png");
    expect(decodeDataUri("https://x")).toBeUndefined();
  });
});

describe("webhook signed message", () => {
  it("is requestId, userId, timestamp and the body's SHA-256, one per line", async () => {
    const message = await webhookSignedMessage({ requestId: "r", userId: "u", timestamp: "1", body: "abc" });
    expect(new TextDecoder().decode(message)).toBe("r\nu\n1\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("sleep and errors", () => {
  it("rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const waiting = sleep(10_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    await expect(sleep(0)).resolves.toBeUndefined();
  });

  it("KontextError serialises its name, message and own fields", () => {
    const error = Object.assign(new KontextError("boom"), { status: 500 });
    expect(JSON.parse(JSON.stringify(error))).toEqual({ name: "KontextError", message: "boom", status: 500 });
  });
});

describe("unreadable and oversized bodies", () => {
  it("answers broken and too-deep JSON with one 422 shape, and oversize with 413", async () => {
    const broken = parseJsonBounded("{", 64);
    const deep = parseJsonBounded("[[[]]]", 2);
    if (broken.ok || deep.ok) throw new Error("expected failures");
    const brokenAnswer = unreadableBodyResponse(broken);
    expect(brokenAnswer.status).toBe(422);
    expect((await brokenAnswer.json()).detail[0]).toMatchObject({ loc: ["body"], type: "json_invalid" });
    const deepAnswer = unreadableBodyResponse(deep);
    expect((await deepAnswer.json()).detail[0]).toMatchObject({ loc: ["body"], type: "json_too_deep", ctx: { max_depth: 2 } });
    const large = bodyTooLargeResponse(1024);
    expect(large.status).toBe(413);
    expect(large.headers.get("x-fal-error-type")).toBe("request_too_large");
    expect(await large.json()).toEqual({ detail: "the request body is larger than 1024 bytes", error_type: "request_too_large" });
  });
});

describe("the key from the environment", () => {
  it("reads FAL_KEY, then FAL_KEY_ID:FAL_KEY_SECRET, and reports a refused read instead of throwing", () => {
    const saved = { ...process.env };
    try {
      process.env.FAL_KEY = "";
      process.env.FAL_KEY_ID = "id";
      process.env.FAL_KEY_SECRET = "secret";
      expect(falKeyFromEnv()).toEqual({ key: "id:secret", source: "FAL_KEY_ID/FAL_KEY_SECRET" });
      process.env.FAL_KEY = "whole";
      expect(falKeyFromEnv()).toEqual({ key: "whole", source: "FAL_KEY" });
      const refusing = new Proxy(
        {},
        {
          get() {
            throw new Error('Requires env access to "FAL_KEY", run again with the --allow-env flag');
          },
        },
      );
      const original = Object.getOwnPropertyDescriptor(process, "env");
      Object.defineProperty(process, "env", { value: refusing, configurable: true });
      try {
        expect(falKeyFromEnv()).toEqual({ refused: expect.stringContaining("--allow-env") });
      } finally {
        if (original) Object.defineProperty(process, "env", original);
      }
    } finally {
      process.env = saved;
    }
  });
});

describe("readCapped", () => {
  const stream = (...chunks: number[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const size of chunks) controller.enqueue(new Uint8Array(size).fill(1));
        controller.close();
      },
    });

  it("reads a body within the cap whole, refuses a declared or counted oversize one", async () => {
    const whole = await readCapped(stream(3, 4), 10);
    expect(whole).toEqual({ ok: true, bytes: new Uint8Array(7).fill(1) });
    expect(await readCapped(stream(3), 10, "11")).toEqual({ ok: false, seenBytes: 11 });
    expect(await readCapped(stream(6, 6), 10, "garbage")).toEqual({ ok: false, seenBytes: 12 });
    expect(await readCapped(null, 10)).toEqual({ ok: true, bytes: new Uint8Array(0) });
  });
});

describe("readBodyText", () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request("http://127.0.0.1/app", { method: "POST", body, headers });

  it("gives UTF-8 text, a 413 past the cap and a 422 at body for bytes that are not UTF-8", async () => {
    expect(await readBodyText(post('{"prompt":"ü"}'), 100)).toEqual({ ok: true, text: '{"prompt":"ü"}' });

    const tooLarge = await readBodyText(post("x".repeat(11)), 10);
    expect(tooLarge).toMatchObject({ ok: false, refusal: "too_large", bytes: 11 });
    if (tooLarge.ok) throw new Error("unreachable");
    expect(tooLarge.response.status).toBe(413);

    const garbled = await readBodyText(post(new Uint8Array([0x7b, 0xff, 0x7d])), 10);
    expect(garbled).toMatchObject({ ok: false, refusal: "not_utf8", bytes: 3 });
    if (garbled.ok) throw new Error("unreachable");
    expect(garbled.response.status).toBe(422);
    expect(await garbled.response.json()).toMatchObject({ detail: [{ loc: ["body"], msg: "JSON decode error" }] });
  });
});

describe("storage initiate paths", () => {
  it("names single and multipart initiates both ways, and nothing else", () => {
    expect(initiatePath(false)).toBe("/storage/upload/initiate");
    expect(initiatePath(true)).toBe("/storage/upload/initiate-multipart");
    expect(initiateKindOf("/storage/upload/initiate")).toBe(false);
    expect(initiateKindOf("/storage/upload/initiate-multipart")).toBe(true);
    for (const other of ["/storage/upload/initiate/", "/storage/uploads/x", "/constructor", "/storage/upload/toString"])
      expect(initiateKindOf(other)).toBeUndefined();
  });
});

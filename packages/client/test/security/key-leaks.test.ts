/**
 * Issue 15, finding 3: the key never leaks through an error. A server that echoes the Authorization
 * header must not get the key (or any 8-character piece of it) into an error's message, body, issues,
 * cause, `JSON.stringify` or `util.inspect`; and a key that cannot be a header value is refused where it
 * enters, naming its source, never its value.
 */
import { inspect } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createKontextClient, KontextError } from "../../src/index.js";
import { falQueue, json } from "../helpers.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const SECRET = "0123456789abcdef0123456789abcdef0123456789abcdefX";
const KEY = `key-id-1234:${SECRET}`;

afterEach(() => vi.unstubAllEnvs());

/** Every 8-character window of the secret: none may survive anywhere. */
const pieces = Array.from({ length: SECRET.length - 7 }, (_, start) => SECRET.slice(start, start + 8));
const expectNoPiece = (text: string) => {
  for (const piece of pieces) expect(text, `leaked "${piece}"`).not.toContain(piece);
};
const everything = (error: Error) =>
  [error.message, String(error.stack), JSON.stringify(error), inspect(error, { depth: 10 }), String(error)].join("\n");

describe("a server that echoes the key", () => {
  it("a key straddling the message's cut is redacted before the cut (message, body, JSON, inspect)", async () => {
    // The key starts at character ~100 of the detail: a snippet cut at 120 before redaction kept 20 of its characters.
    for (const lead of [90, 100, 110, 117]) {
      const q = falQueue({ override: (c) => json({ detail: `${"x".repeat(lead)} ${c.headers.get("authorization")} end` }, 500) });
      const error = await createKontextClient({ credentials: KEY, fetch: q.fetch, retry: false })
        .status(T2I, "r")
        .catch((e) => e);
      expect(error).toBeInstanceOf(KontextError);
      expectNoPiece(everything(error));
      expect(JSON.stringify(error.body)).toContain("[redacted]");
    }
  });

  it("a 422 echoing the key in its issues keeps neither issues, body nor message dirty", async () => {
    const q = falQueue({
      override: (c) =>
        json({ detail: [{ loc: ["body", "prompt"], msg: `bad ${c.headers.get("authorization")}`, type: "t", input: KEY }] }, 422),
    });
    const error = await createKontextClient({ credentials: KEY, fetch: q.fetch })
      .result(T2I, "r")
      .catch((e) => e);
    expect(error.issues[0].message).toContain("[redacted]");
    expectNoPiece(everything(error));
    expectNoPiece(JSON.stringify(error.issues));
  });

  it("an unreadable (HTML) page echoing the key, and a transport error quoting it in its cause", async () => {
    const page = falQueue({
      override: (c) =>
        new Response(`<html>${"p".repeat(100)}${c.headers.get("authorization")}</html>`, {
          status: 502,
          headers: { "content-type": "text/html" },
        }),
    });
    const htmlError = await createKontextClient({ credentials: KEY, fetch: page.fetch, retry: false })
      .status(T2I, "r")
      .catch((e) => e);
    expectNoPiece(everything(htmlError));
    expectNoPiece(String(htmlError.body));
    const broken = falQueue({
      override: (c) =>
        Promise.reject(
          new TypeError("fetch failed", { cause: new Error(`socket closed while sending ${c.headers.get("authorization")}`) }),
        ),
    });
    const networkError = await createKontextClient({ credentials: KEY, fetch: broken.fetch, retry: false })
      .status(T2I, "r")
      .catch((e) => e);
    expect(networkError.name).toBe("KontextNetworkError");
    expectNoPiece(everything(networkError));
    expectNoPiece(inspect(networkError.cause, { depth: 10 }));
  });
});

describe("keys are checked where they enter", () => {
  const bad: [string, string][] = [
    ["empty", ""],
    ["a line feed", "key:se\ncret-value"],
    ["a carriage return", "key:secret-value\r"],
    ["a NUL", "key:secret\u0000value"],
    ["non-ASCII", "key:sécret-value"],
  ];

  it.each(bad)("credentials with %s: refused at creation, naming the source and not the value", (_, key) => {
    const q = falQueue();
    const create = () => createKontextClient({ credentials: key, fetch: q.fetch });
    expect(create).toThrow(KontextError);
    expect(create).toThrow(/credentials/);
    if (key.length > 4) expect(create).not.toThrow(key.slice(4));
    expect(q.calls).toHaveLength(0);
  });

  it("FAL_KEY and FAL_KEY_ID/FAL_KEY_SECRET are checked when the client is created", () => {
    vi.stubEnv("FAL_KEY", "abc\ndef-secret");
    expect(() => createKontextClient()).toThrow(/FAL_KEY/);
    expect(() => createKontextClient()).not.toThrow("def-secret");
    vi.stubEnv("FAL_KEY", "");
    vi.stubEnv("FAL_KEY_ID", "id");
    vi.stubEnv("FAL_KEY_SECRET", "sec\nret-value");
    expect(() => createKontextClient()).toThrow(/FAL_KEY_ID\/FAL_KEY_SECRET/);
    // Behind a proxy the environment is not read, so it is not checked either.
    expect(() => createKontextClient({ proxyUrl: "https://app.example/api/fal" })).not.toThrow();
  });

  it("a credentials function's answer is checked when resolved, before anything is sent", async () => {
    const q = falQueue();
    const kontext = createKontextClient({ credentials: async () => "token\r\nx-injected: 1", fetch: q.fetch });
    const error = await kontext.status(T2I, "r").catch((e) => e);
    expect(error).toBeInstanceOf(KontextError);
    expect(error.message).toContain("the credentials function");
    expect(error.message).not.toContain("x-injected");
    expect(q.calls).toHaveLength(0);
  });
});

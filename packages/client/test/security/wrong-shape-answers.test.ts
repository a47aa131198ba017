/**
 * Errors built after the transport handed an answer back (a 2xx of the wrong shape, a status event, the
 * storage host's initiate answer, a part's answer) carry that answer as their body. A server that echoes
 * the Authorization header into such an answer must not get the key into the error's message,
 * `JSON.stringify` or `util.inspect`, whichever entry point built it.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { createKontextClient, KontextError } from "../../src/index.js";
import { MULTIPART_THRESHOLD_BYTES } from "../../src/storage.js";
import { fakeFetch, json, type Recorded } from "../helpers.js";

const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
const SECRET = "0123456789abcdef0123456789abcdef0123456789abcdefX";
const KEY = `key-id-1234:${SECRET}`;
const STORAGE = "https://rest.fal.ai";
const CDN = "https://v3.fal.media";

/** Every 8-character window of the secret: none may survive anywhere. */
const pieces = Array.from({ length: SECRET.length - 7 }, (_, start) => SECRET.slice(start, start + 8));

function expectClean(error: unknown) {
  expect(error).toBeInstanceOf(KontextError);
  const failed = error as KontextError;
  for (const [where, text] of [
    ["message", failed.message],
    ["JSON.stringify", JSON.stringify(failed)],
    ["util.inspect", inspect(failed, { depth: 10 })],
  ] as const) {
    for (const piece of pieces) expect(text, `${where} leaked "${piece}"`).not.toContain(piece);
  }
}

/** What a hostile host answers: the request's headers echoed, the key among them, and no field the call expects. */
const echo = (call: Recorded) => ({
  echoed: Object.fromEntries(call.headers),
  note: `you sent ${call.headers.get("authorization")}`,
});

/** An SSE body from raw `data:` payloads, optionally broken off with an error quoting the key. */
function rawSse(payloads: string[], breakWith?: string) {
  const encoder = new TextEncoder();
  const queue = [...payloads];
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const payload = queue.shift();
      if (payload !== undefined) return controller.enqueue(encoder.encode(`data: ${payload}\n\n`));
      if (breakWith) controller.error(new TypeError(breakWith));
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

/** A queue host whose every 2xx answer (submit, status, stream events, result) is the wrong shape, echoing the key. */
function echoingQueue(stream: (call: Recorded) => Response = (call) => rawSse([JSON.stringify(echo(call))])) {
  return fakeFetch((call) => {
    const path = new URL(call.url).pathname;
    if (path.endsWith("/status/stream")) return stream(call);
    return json(echo(call), 200);
  });
}

const clientOf = (fetch: typeof globalThis.fetch) => createKontextClient({ credentials: KEY, fetch, retry: false });

async function drain<T>(statuses: AsyncIterable<T>) {
  for await (const _ of statuses) {
    // only the error matters
  }
}

describe("a 2xx answer of the wrong shape that echoes the key", () => {
  it("client.status: not a queue status", async () => {
    const error = await clientOf(echoingQueue().fetch)
      .status(T2I, "r")
      .catch((e) => e);
    expect(error.message).toContain("not a queue status");
    expectClean(error);
  });

  it("client.submit: no request_id", async () => {
    const error = await clientOf(echoingQueue().fetch)
      .submit(T2I, { prompt: "a cat" })
      .catch((e) => e);
    expect(error.message).toContain("no request_id");
    expectClean(error);
  });

  it("client.streamStatus: an event without a status, an unreadable event, a stream broken off quoting the key", async () => {
    const streams: ((call: Recorded) => Response)[] = [
      (call) => rawSse([JSON.stringify(echo(call))]),
      (call) => rawSse([`not json ${call.headers.get("authorization")}`]),
      (call) => rawSse([], `terminated while sending ${call.headers.get("authorization")}`),
    ];
    for (const stream of streams) {
      const error = await drain(clientOf(echoingQueue(stream).fetch).streamStatus(T2I, "r")).catch((e) => e);
      expect(error?.message).toContain("status stream");
      expectClean(error);
    }
  });

  it("client.result hands a 2xx answer back as the output (no error to leak from)", async () => {
    const answer = await clientOf(echoingQueue().fetch).result(T2I, "r");
    expect(answer.requestId).toBe("r");
  });

  it("the job handle: statuses() and result() (stream broken, then a poll of the wrong shape)", async () => {
    const client = clientOf(echoingQueue().fetch);
    const statusesError = await drain(client.job(T2I, "r").statuses()).catch((e) => e);
    expect(statusesError?.message).toContain("not a queue status");
    expectClean(statusesError);
    const resultError = await client
      .job(T2I, "r")
      .result()
      .catch((e) => e);
    expect(resultError?.message).toContain("not a queue status");
    expectClean(resultError);
  });
});

describe("storage answers that echo the key", () => {
  it("storage.upload: an initiate answer without upload_url/file_url", async () => {
    const fake = fakeFetch((call) => json(echo(call), 200));
    const error = await clientOf(fake.fetch)
      .storage.upload(new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" }))
      .catch((e) => e);
    expect(error.message).toContain("no upload_url/file_url");
    expectClean(error);
  });

  it("storage.upload in parts: a part answer without an etag, quoting the key the storage host was sent", async () => {
    let seenKey: string | null = null;
    const fake = fakeFetch((call) => {
      const url = new URL(call.url);
      if (url.origin === STORAGE) {
        seenKey = call.headers.get("authorization");
        return json({ upload_url: `${CDN}/upload/big.bin?sig=s1`, file_url: `${CDN}/files/big.bin` });
      }
      // The signed URL never sees the key; a host that knows it (the same service) may still echo it.
      return json({ note: `the storage host was sent ${seenKey}` });
    });
    const error = await clientOf(fake.fetch)
      .storage.upload(new Blob([new Uint8Array(MULTIPART_THRESHOLD_BYTES + 1)], { type: "application/octet-stream" }))
      .catch((e) => e);
    expect(seenKey).toBe(`Key ${KEY}`);
    expect(error.message).toContain("no etag");
    expectClean(error);
  });
});

describe("a part's answer is read through a small cap", () => {
  it("an answer over 64 KiB is not read: the etag header is used instead", async () => {
    let completed: string | undefined;
    const fake = fakeFetch((call) => {
      const url = new URL(call.url);
      if (url.origin === STORAGE) return json({ upload_url: `${CDN}/upload/big.bin?sig=s1`, file_url: `${CDN}/files/big.bin` });
      if (url.pathname.endsWith("/complete")) {
        completed = call.body;
        return json({ ok: true });
      }
      return json({ etag: "from-the-body", padding: "x".repeat(128 * 1024) }, 200, { etag: "from-the-header" });
    });
    const url = await clientOf(fake.fetch).storage.upload(
      new Blob([new Uint8Array(MULTIPART_THRESHOLD_BYTES + 1)], { type: "application/octet-stream" }),
    );
    expect(url).toBe(`${CDN}/files/big.bin`);
    const parts = JSON.parse(completed ?? "{}").parts as { etag: string }[];
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((part) => part.etag === "from-the-header")).toBe(true);
  });
});

/**
 * Issue 15, finding 7: the key never reaches the browser in any form (raw, either half, base64 of the
 * header value, URL-encoded): not in an allow-listed response header, not in a 2xx body, not in a
 * status-stream event, even when it is split across chunks.
 */
import { describe, expect, it } from "vitest";
import { REQUEST_ID } from "../support/fake-upstream.js";
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
  testProxy,
  VALID_INPUT,
} from "../support/proxy-requests.js";

const RESULT = `${QUEUE}/fal-ai/flux-pro/requests/${REQUEST_ID}`;
const LEAKS = `raw ${PROXY_KEY} | b64 ${btoa(`Key ${PROXY_KEY}`)} | url ${encodeURIComponent(PROXY_KEY)} | half ${PROXY_KEY.split(":")[1]}`;

/** A proxy in front of an upstream that echoes the key, in every form, in the given place. */
const leakingProxy = (reply: () => Response) => testProxy({}, reply).proxy;

function expectNoKey(text: string) {
  for (const form of keyForms(PROXY_KEY)) expect(text).not.toContain(form);
  expect(text).toContain("[redacted]");
}

/** A body streamed in small pieces, so forms of the key straddle chunk boundaries. */
function trickle(text: string, size = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

describe("scrubbing the key from everything upstream sends back (issue 15 #7)", () => {
  it("scrubs allow-listed response headers (x-fal-error-type, x-fal-request-id)", async () => {
    const proxy = leakingProxy(() =>
      Response.json(
        { detail: "no" },
        { status: 401, headers: { "x-fal-error-type": `bad key ${LEAKS}`, "x-fal-request-id": PROXY_KEY } },
      ),
    );
    const response = await proxy(submitRequest(PROXY, APP, VALID_INPUT));
    expect(response.status).toBe(401);
    expect(response.headers.get("x-fal-error-type")).toContain("bad key raw [redacted] | b64 [redacted]");
    expectNoKey(await readAll(response));
  });

  it("scrubs a 2xx result body, streamed, with the key split across chunks", async () => {
    const proxy = leakingProxy(
      () =>
        new Response(trickle(JSON.stringify({ images: [], note: LEAKS })), { headers: { "content-type": "application/json" } }),
    );
    const response = await proxy(pageRequest(PROXY, APP, { target: RESULT }));
    expect(response.status).toBe(200);
    const text = await readAll(response);
    expectNoKey(text);
    expect(text).toContain('"images":[]');
  });

  it("scrubs submit answers, sync run outputs and cancel answers", async () => {
    const submit = await leakingProxy(() => Response.json({ status: "IN_QUEUE", request_id: REQUEST_ID, note: LEAKS }))(
      submitRequest(PROXY, APP, VALID_INPUT),
    );
    expectNoKey(await readAll(submit));
    const run = await leakingProxy(() => new Response(trickle(JSON.stringify({ note: LEAKS }), 5)))(
      submitRequest(PROXY, APP, VALID_INPUT, `https://fal.run/${T2I}`),
    );
    expectNoKey(await readAll(run));
    const cancel = await leakingProxy(() => Response.json({ status: "CANCELLATION_REQUESTED", note: LEAKS }, { status: 202 }))(
      pageRequest(PROXY, APP, { method: "PUT", target: `${RESULT}/cancel` }),
    );
    expectNoKey(await readAll(cancel));
  });

  it("scrubs status-stream events, line by line, and streams that are not line-based", async () => {
    const events = `data: {"status":"IN_PROGRESS","logs":[{"message":"${LEAKS}"}]}\n\ndata: {"status":"COMPLETED"}\n\n`;
    const stream = await leakingProxy(
      () => new Response(trickle(events, 3), { headers: { "content-type": "text/event-stream" } }),
    )(pageRequest(PROXY, APP, { target: `${RESULT}/status/stream` }));
    const text = await readAll(stream);
    expectNoKey(text);
    expect(text).toContain('data: {"status":"COMPLETED"}');
    const loneCarriageReturns = events.replace(/\n/g, "\r");
    const odd = await leakingProxy(
      () => new Response(trickle(loneCarriageReturns, 4), { headers: { "content-type": "text/event-stream" } }),
    )(pageRequest(PROXY, APP, { target: `${RESULT}/status/stream` }));
    expectNoKey(await readAll(odd));
  });
});

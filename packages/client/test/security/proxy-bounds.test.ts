/**
 * Issue 15, findings 9 and 10, and issue 13 §4: bounded inputs, and the same answer from the proxy and
 * the mock for the same bad input (status, body shape, headers).
 */

import { createKontextMock } from "@kontext-sdk/mocks";
import { INPUT_LIMITS } from "@kontext-sdk/schema";
import { describe, expect, it } from "vitest";
import { APP, PROXY, QUEUE, submitRequest, T2I, testProxy } from "../support/proxy-requests.js";

const MULTI = "fal-ai/flux-pro/kontext/max/multi";
const setup = (maxBodyBytes?: number) => testProxy(maxBodyBytes === undefined ? {} : { maxBodyBytes });

const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

/** What a client can tell apart: status, the headers that matter, the body. */
async function shape(response: Response) {
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    errorType: response.headers.get("x-fal-error-type"),
    body: await response.json(),
  };
}

describe("bounded inputs (issue 15 #9, #10)", () => {
  it("answers JSON nested 500,000 levels deep with the core's 422 json_too_deep, not a 500", async () => {
    const { proxy, calls } = setup();
    const response = await proxy(submitRequest(PROXY, APP, deep(500_000)));
    expect(response.status).toBe(422);
    const body = await response.json();
    expect(body.detail).toEqual([
      expect.objectContaining({ loc: ["body"], type: "json_too_deep", ctx: { max_depth: INPUT_LIMITS.maxJsonDepth } }),
    ]);
    expect(calls).toHaveLength(0);
  }, 60_000);

  it("refuses a prompt over the spec's length and image_urls over the spec's count, naming the field", async () => {
    const { proxy, calls } = setup();
    const longPrompt = await proxy(submitRequest(PROXY, APP, { prompt: "x".repeat(INPUT_LIMITS.promptMaxLength + 1) }));
    expect(longPrompt.status).toBe(422);
    expect((await longPrompt.json()).detail).toContainEqual(
      expect.objectContaining({ loc: ["body", "prompt"], type: "maxLength" }),
    );
    const manyImages = await proxy(
      submitRequest(
        PROXY,
        APP,
        { prompt: "x", image_urls: Array.from({ length: 300_000 }, (_, index) => `https://e.example/${index}.png`) },
        `${QUEUE}/${MULTI}`,
      ),
    );
    expect(manyImages.status).toBe(422);
    expect((await manyImages.json()).detail).toContainEqual(
      expect.objectContaining({ loc: ["body", "image_urls"], type: "maxItems" }),
    );
    const atTheBound = await proxy(submitRequest(PROXY, APP, { prompt: "x".repeat(INPUT_LIMITS.promptMaxLength) }));
    expect(atTheBound.status).toBe(200);
    expect(calls).toHaveLength(1);
  }, 60_000);
});

describe("the proxy and the mock answer bad input alike (issue 13 §4)", () => {
  const mockAnswer = async (body: string, maxBodyBytes?: number) => {
    const mock = createKontextMock(maxBodyBytes === undefined ? {} : { maxBodyBytes });
    return mock.fetch(`${QUEUE}/${T2I}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Key mock" },
      body,
    });
  };

  const cases: Array<[string, string, number | undefined, number]> = [
    ["broken JSON", "{not json", undefined, 422],
    ["JSON nested too deep", deep(INPUT_LIMITS.maxJsonDepth + 1), undefined, 422],
    ["a body over the cap", JSON.stringify({ prompt: "x".repeat(500) }), 100, 413],
  ];
  for (const [what, body, cap, status] of cases) {
    it(`${what} → ${status}, same body and headers`, async () => {
      const { proxy } = setup(cap);
      const fromProxy = await shape(await proxy(submitRequest(PROXY, APP, body)));
      const fromMock = await shape(await mockAnswer(body, cap));
      expect(fromProxy.status).toBe(status);
      expect(fromProxy).toEqual(fromMock);
      if (status === 413) expect(fromProxy.errorType).toBe("request_too_large");
      else expect(fromProxy.body.detail[0].loc).toEqual(["body"]);
    });
  }
});

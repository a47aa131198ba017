/**
 * Issue 15 (10) and issue 13 §4: deeply nested JSON is the caller's input problem, answered with the
 * protocol core's 422 (the very answer the proxy gives), never a 500; broken JSON likewise.
 */
import { INPUT_LIMITS } from "@kontext-sdk/schema";
import { unreadableBodyResponse } from "@kontext-sdk/schema/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createKontextMock, createManualClock } from "../../src/index.js";
import { type MockServer, startMockServer } from "../../src/server.js";
import { JSON_HEADERS, QUEUE, T2I } from "../helpers.js";

const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

/** Status, body and the headers a client reads, for comparing two answers. */
async function shape(response: Response) {
  return {
    status: response.status,
    body: await response.json(),
    contentType: response.headers.get("content-type"),
    errorType: response.headers.get("x-fal-error-type"),
  };
}

let server: MockServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("deeply nested JSON", () => {
  it("500,000 levels is a 422 json_too_deep at loc body, on submit and on sync runs, never a 500", async () => {
    const mock = createKontextMock({ clock: createManualClock() });
    for (const url of [`${QUEUE}/${T2I}`, `https://fal.run/${T2I}`]) {
      const response = await mock.fetch(url, { method: "POST", headers: JSON_HEADERS, body: deep(500_000) });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({
        detail: [
          {
            loc: ["body"],
            msg: `JSON nests deeper than ${INPUT_LIMITS.maxJsonDepth} levels`,
            type: "json_too_deep",
            ctx: { max_depth: INPUT_LIMITS.maxJsonDepth },
          },
        ],
      });
    }
    expect(mock.jobs.size).toBe(0);
  });

  it("the spec's depth bound itself is accepted (the job then refuses the input at its result)", async () => {
    const mock = createKontextMock({ clock: createManualClock() });
    const atBound = await mock.fetch(`${QUEUE}/${T2I}`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ prompt: "x", extra: JSON.parse(deep(INPUT_LIMITS.maxJsonDepth - 1)) }),
    });
    expect(atBound.status).toBe(200);
  });

  it("answers exactly what the core (and so the proxy) answers, for too-deep and for broken JSON", async () => {
    const mock = createKontextMock({ clock: createManualClock() });
    const tooDeep = await mock.fetch(`${QUEUE}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: deep(100) });
    expect(await shape(tooDeep)).toEqual(
      await shape(unreadableBodyResponse({ reason: "too_deep", depth: 33, limit: INPUT_LIMITS.maxJsonDepth })),
    );
    const broken = await mock.fetch(`${QUEUE}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: '{"prompt":' });
    const brokenShape = await shape(broken);
    expect(brokenShape).toMatchObject({ status: 422, contentType: "application/json", errorType: null });
    expect(brokenShape.body.detail).toEqual([expect.objectContaining({ loc: ["body"], type: "json_invalid" })]);
  });

  it("the same 422 over the node server", async () => {
    server = await startMockServer({ clock: createManualClock() });
    const response = await fetch(`${server.url}/${T2I}`, { method: "POST", headers: JSON_HEADERS, body: deep(500_000) });
    expect(response.status).toBe(422);
    expect((await response.json()).detail[0].type).toBe("json_too_deep");
  });
});

import { describe, expect, it } from "vitest";
import { type KontextMatchers, kontextMatchers } from "../src/index.js";

declare module "vitest" {
  interface Matchers<T = any> extends KontextMatchers<T> {}
}

expect.extend(kontextMatchers);

const completed = { status: "COMPLETED", request_id: "r" };

describe("toMatchKontextSpec", () => {
  it("passes a valid body and fails an invalid one with the JSON path in the message", () => {
    expect({ status: "CANCELLATION_REQUESTED" }).toMatchKontextSpec("cancelRequest", 202);
    expect(() => expect({ images: [{}] }).toMatchKontextSpec("getResult", 200)).toThrow(
      /schema:required at \$\.images\[0\]\.url/,
    );
  });

  it("works with .not", () => {
    expect({ status: "IN_QUEUE", queue_position: 0 }).not.toMatchKontextSpec("getStatus", 200);
    expect(() => expect(completed).not.toMatchKontextSpec("getStatus", 200)).toThrow(/not to match getStatus/);
  });

  it("without a status, accepts any documented success answer", () => {
    expect(completed).toMatchKontextSpec("getStatus");
    expect({ status: "IN_PROGRESS" }).toMatchKontextSpec("getStatus");
    expect(() => expect({ status: "DONE" }).toMatchKontextSpec("getStatus")).toThrow();
  });

  it("reads a fetch Response (status and content type included)", async () => {
    const ok = new Response(JSON.stringify(completed), { status: 200, headers: { "content-type": "application/json" } });
    await expect(ok).toMatchKontextSpec("getStatus");
    const undocumented = new Response(JSON.stringify(completed), {
      status: 201,
      headers: { "content-type": "application/json" },
    });
    await expect(expect(undocumented).toMatchKontextSpec("getStatus")).rejects.toThrow(/undocumented-status/);
    const html = new Response("<html></html>", { status: 200, headers: { "content-type": "text/html" } });
    await expect(expect(html).toMatchKontextSpec("getStatus")).rejects.toThrow(/content-type/);
  });
});

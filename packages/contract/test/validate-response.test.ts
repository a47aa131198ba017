import { describe, expect, it } from "vitest";
import { specOperations, toJsonPath, validateResponse } from "../src/index.js";

const output = {
  images: [{ url: "https://v3.fal.media/files/x.png", width: 16, height: 16 }],
  timings: { inference: 0.5 },
  seed: 1,
  has_nsfw_concepts: [false],
  prompt: "p",
};
const submitted = {
  status: "IN_QUEUE",
  request_id: "abc",
  queue_position: 0,
  response_url: "https://queue.fal.run/fal-ai/flux-pro/requests/abc",
  status_url: "https://queue.fal.run/fal-ai/flux-pro/requests/abc/status",
  cancel_url: "https://queue.fal.run/fal-ai/flux-pro/requests/abc/cancel",
};

describe("the operation table read from the spec", () => {
  it("holds every queue and sync operation, each answer with a validator", () => {
    expect([...specOperations.keys()]).toEqual(
      expect.arrayContaining([
        "submitTextToImage",
        "submitMaxMultiEdit",
        "getStatus",
        "streamStatus",
        "getResult",
        "cancelRequest",
        "runMaxEdit",
      ]),
    );
    for (const op of specOperations.values()) {
      for (const response of Object.values(op.responses)) {
        for (const media of Object.values(response.content)) {
          expect(media.schema ?? media.eventSchema, `${op.operationId} ${response.status}`).toBeDefined();
        }
      }
    }
    expect(specOperations.get("getStatus")?.path).toBe("/fal-ai/flux-pro/requests/{request_id}/status");
  });
});

describe("validateResponse", () => {
  it("accepts the spec's own shapes", () => {
    expect(validateResponse("submitEdit", 200, submitted)).toEqual([]);
    expect(validateResponse("getResult", 200, output)).toEqual([]);
    expect(validateResponse("getStatus", 202, { status: "IN_QUEUE", queue_position: 2 })).toEqual([]);
    expect(validateResponse("getStatus", 202, { status: "IN_PROGRESS", logs: [{ message: "x" }] })).toEqual([]);
    expect(validateResponse("getStatus", 200, { status: "COMPLETED", metrics: { inference_time: 1 } })).toEqual([]);
    expect(validateResponse("cancelRequest", 202, { status: "CANCELLATION_REQUESTED" })).toEqual([]);
    expect(validateResponse("getResult", 422, { detail: [{ loc: ["body", "prompt"], msg: "m", type: "missing" }] })).toEqual([]);
    expect(validateResponse("runTextToImage", 200, output)).toEqual([]);
  });

  it("names the rule and the JSON path of each problem", () => {
    const broken = { ...output, images: [{ width: 16 }, { url: 3 }] };
    expect(validateResponse("getResult", 200, broken)).toEqual([
      {
        operationId: "getResult",
        status: 200,
        rule: "schema:required",
        path: "$.images[0].url",
        message: "images[0].url is required",
      },
      expect.objectContaining({ rule: "schema:type", path: "$.images[1].url" }),
    ]);
  });

  it("reports a missing request_id on submit", () => {
    const { request_id: _, ...rest } = submitted;
    expect(validateResponse("submitTextToImage", 200, rest)).toContainEqual(
      expect.objectContaining({ rule: "schema:required", path: "$.request_id" }),
    );
  });

  it("treats an undocumented status code as a violation", () => {
    expect(validateResponse("getStatus", 418, { detail: "boom" })).toEqual([
      expect.objectContaining({ rule: "undocumented-status", status: 418, path: "$" }),
    ]);
    expect(validateResponse("submitEdit", 202, submitted)[0]?.rule).toBe("undocumented-status");
  });

  it("judges a 202 status against the branch its status names", () => {
    const v = validateResponse("getStatus", 202, { status: "IN_QUEUE" });
    expect(v).toEqual([expect.objectContaining({ rule: "schema:required", path: "$.queue_position" })]);
    expect(v[0]?.message).toContain("InQueueStatus");
    expect(validateResponse("getStatus", 202, { status: "COMPLETED" }).length).toBeGreaterThan(0);
  });

  it("names no branch for a status no branch accepts (DONE is not 'must be IN_PROGRESS')", () => {
    const v = validateResponse("getStatus", 202, { status: "DONE" });
    expect(v).toEqual([expect.objectContaining({ rule: "schema:discriminator", path: "$.status" })]);
    expect(v[0]?.message).toContain('"DONE"');
    expect(v[0]?.message).toContain("IN_QUEUE (InQueueStatus)");
    expect(v[0]?.message).not.toContain("must be IN_PROGRESS");
    const streamed = validateResponse("streamStatus", 200, [{ status: "IN_QUEUE", queue_position: 0 }, { status: "DONE" }]);
    expect(streamed.map((x) => `${x.rule} ${x.path}`)).toEqual(["schema:discriminator $[1].status"]);
  });

  it("accepts fal's documented answers: flat and NOT_FOUND cancel 404s, string-detail 422s, minimal submits", () => {
    expect(validateResponse("cancelRequest", 404, { detail: "Request not found" })).toEqual([]);
    expect(validateResponse("cancelRequest", 404, { status: "NOT_FOUND" })).toEqual([]);
    expect(validateResponse("getResult", 422, { detail: "Unprocessable Entity" })).toEqual([]);
    const { status: _s, queue_position: _q, ...minimal } = submitted;
    expect(validateResponse("submitMaxEdit", 200, minimal)).toEqual([]);
    const nullable = { ...output, images: [{ url: output.images[0]!.url, width: null, height: null, content_type: null }] };
    expect(validateResponse("getResult", 200, nullable)).toEqual([]);
  });

  it("reports an error body of neither shape against the shape it comes closest to", () => {
    const v = validateResponse("getResult", 422, { detail: [{ loc: ["body", "prompt"], msg: "m" }] });
    expect(v).toEqual([expect.objectContaining({ rule: "schema:required", path: "$.detail[0].type" })]);
    expect(v[0]?.message).toContain("HTTPValidationError");
  });

  it("checks the content type when headers are given", () => {
    expect(validateResponse("getResult", 200, output, { "Content-Type": "application/json; charset=utf-8" })).toEqual([]);
    expect(validateResponse("getResult", 200, output, new Headers({ "content-type": "text/html" }))).toEqual([
      expect.objectContaining({ rule: "content-type" }),
    ]);
  });

  it("reads a status stream event by event", () => {
    const stream = [
      'data: {"status":"IN_QUEUE","queue_position":1}',
      "",
      'data: {"status":"IN_PROGRESS","logs":[{"level":"INFO"}]}',
      "",
      "data: not json",
      "",
      'data: {"status":"COMPLETED"}',
      "",
      "",
    ].join("\n");
    const v = validateResponse("streamStatus", 200, stream, { "content-type": "text/event-stream" });
    expect(v.map((x) => `${x.rule} ${x.path}`)).toEqual(["invalid-json $[2]", "schema:required $[1].logs[0].message"]);
    expect(validateResponse("streamStatus", 200, [{ status: "COMPLETED" }])).toEqual([]);
  });

  it("names a last event that lacks its terminating blank line", () => {
    const text = 'data: {"status":"IN_PROGRESS"}\n\ndata: {"status":"COMPLETED"}\n';
    expect(validateResponse("streamStatus", 200, text)).toEqual([
      expect.objectContaining({ rule: "sse-unterminated-event", path: "$[1]" }),
    ]);
    expect(validateResponse("streamStatus", 200, `${text}\n`)).toEqual([]);
  });

  it("reports an unknown operation instead of throwing", () => {
    expect(validateResponse("nope" as never, 200, {})[0]?.rule).toBe("unknown-operation");
  });
});

describe("toJsonPath", () => {
  it("turns JSON pointers into JSON paths", () => {
    expect(toJsonPath("")).toBe("$");
    expect(toJsonPath("/images/0/url")).toBe("$.images[0].url");
    expect(toJsonPath("/a~1b/x-y")).toBe('$["a/b"]["x-y"]');
  });
});

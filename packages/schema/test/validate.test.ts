import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ASPECT_RATIOS,
  CANCEL_STATUSES,
  type EndpointId,
  endpoints,
  formatIssues,
  INPUT_DEFAULTS,
  INPUT_RANGES,
  isEndpointId,
  QUEUE_STATUSES,
  validateInput,
  validateSchema,
} from "../src/index.js";

const spec = JSON.parse(readFileSync(new URL("../openapi.json", import.meta.url), "utf8"));
const sync = JSON.parse(readFileSync(new URL("../sync.json", import.meta.url), "utf8"));

const ids = Object.keys(endpoints) as EndpointId[];
const byKind = {
  "text-to-image": "fal-ai/flux-pro/kontext/text-to-image",
  edit: "fal-ai/flux-pro/kontext/max",
  multi: "fal-ai/flux-pro/kontext/max/multi",
} as const;

describe("registry", () => {
  it("lists the six Kontext endpoints, each with the owner/app path for status, result and cancel", () => {
    expect(ids.sort()).toEqual(
      [
        "fal-ai/flux-pro/kontext",
        "fal-ai/flux-pro/kontext/max",
        "fal-ai/flux-pro/kontext/max/multi",
        "fal-ai/flux-pro/kontext/max/text-to-image",
        "fal-ai/flux-pro/kontext/multi",
        "fal-ai/flux-pro/kontext/text-to-image",
      ].sort(),
    );
    for (const id of ids) {
      expect(endpoints[id].appPath).toBe("fal-ai/flux-pro");
      expect(spec.paths[`/${id}`].post.operationId).toBe(endpoints[id].operationId);
      expect(sync.paths[`/${id}`].post.operationId).toBe(endpoints[id].syncOperationId);
    }
    expect(endpoints["fal-ai/flux-pro/kontext/max/multi"]).toMatchObject({ kind: "multi", tier: "max", input: "MultiEditInput" });
    expect(endpoints["fal-ai/flux-pro/kontext"]).toMatchObject({ kind: "edit", tier: "pro", input: "EditInput" });
  });

  it("reads constants from the spec", () => {
    expect(ASPECT_RATIOS).toContain("21:9");
    expect(ASPECT_RATIOS).toHaveLength(9);
    expect(INPUT_RANGES.num_images).toEqual({ minimum: 1, maximum: 4 });
    expect(INPUT_RANGES.guidance_scale).toEqual({ minimum: 1, maximum: 20 });
    expect(INPUT_DEFAULTS).toMatchObject({ guidance_scale: 3.5, num_images: 1, output_format: "jpeg", safety_tolerance: "2" });
    expect(INPUT_DEFAULTS.text_to_image_aspect_ratio).toBe("1:1");
    expect(QUEUE_STATUSES).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(CANCEL_STATUSES).toEqual(["OK", "CANCELLATION_REQUESTED", "ALREADY_COMPLETED", "NOT_FOUND"]);
  });

  it("recognises endpoint ids", () => {
    expect(isEndpointId("fal-ai/flux-pro/kontext/max")).toBe(true);
    expect(isEndpointId("fal-ai/flux-pro/kontext/max/")).toBe(false);
    expect(isEndpointId("toString")).toBe(false);
    expect(isEndpointId(42)).toBe(false);
  });
});

describe("every example in the spec validates", () => {
  const examples = spec.components.examples as Record<string, { value: unknown }>;
  const cases: Array<[string, Parameters<typeof validateSchema>[0]]> = [
    ["TextToImageInput", "TextToImageInput"],
    ["EditInput", "EditInput"],
    ["MultiEditInput", "MultiEditInput"],
    ["SubmitResponse", "SubmitResponse"],
    ["SubmitResponseMinimal", "SubmitResponse"],
    ["InQueueStatus", "QueueStatus"],
    ["InProgressStatus", "QueueStatus"],
    ["CompletedStatus", "CompletedStatus"],
    ["FailedStatus", "QueueStatus"],
    ["KontextOutput", "KontextOutput"],
    ["HTTPValidationError", "HTTPValidationError"],
    ["StringDetailError", "ErrorBody"],
    ["ModelError", "ErrorBody"],
    ["AccountLocked", "ErrorBody"],
    ["WebhookOk", "WebhookPayload"],
    ["WebhookError", "WebhookPayload"],
  ];
  it("covers every named example", () => {
    expect(Object.keys(examples).sort()).toEqual(cases.map(([e]) => e).sort());
  });
  it.each(cases)("%s is a valid %s", (example, schema) => {
    const result = validateSchema(schema, examples[example]?.value);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });
  it("inline response examples validate too", () => {
    const inline: Array<[string, unknown]> = [];
    const walk = (node: unknown, schemaRef?: string) => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, any>;
      if (n["application/json"]?.schema?.$ref && n["application/json"].examples) {
        const name = n["application/json"].schema.$ref.split("/").pop();
        for (const ex of Object.values<any>(n["application/json"].examples)) if ("value" in ex) inline.push([name, ex.value]);
      }
      for (const v of Object.values(n)) walk(v, schemaRef);
    };
    walk(spec.paths);
    walk(spec.components.responses);
    expect(inline.length).toBeGreaterThan(5);
    for (const [name, value] of inline) {
      const result = validateSchema(name as never, value);
      expect(result.ok ? [] : [name, result.issues]).toEqual([]);
    }
  });
});

describe("invalid inputs are rejected, each naming its field", () => {
  const t2i = { prompt: "a fox" };
  const table: Array<[string, keyof typeof byKind, Record<string, unknown>, string, string]> = [
    ["missing prompt", "text-to-image", { num_images: 1 }, "prompt", "required"],
    ["empty prompt", "text-to-image", { prompt: "" }, "prompt", "minLength"],
    ["num_images 0", "text-to-image", { ...t2i, num_images: 0 }, "num_images", "minimum"],
    ["num_images 5", "text-to-image", { ...t2i, num_images: 5 }, "num_images", "maximum"],
    ["num_images 1.5", "text-to-image", { ...t2i, num_images: 1.5 }, "num_images", "type"],
    ["guidance_scale 0.5", "text-to-image", { ...t2i, guidance_scale: 0.5 }, "guidance_scale", "minimum"],
    ["guidance_scale 21", "text-to-image", { ...t2i, guidance_scale: 21 }, "guidance_scale", "maximum"],
    ["unknown aspect ratio", "text-to-image", { ...t2i, aspect_ratio: "5:4" }, "aspect_ratio", "enum"],
    ["safety_tolerance as a number", "text-to-image", { ...t2i, safety_tolerance: 2 }, "safety_tolerance", "type"],
    ["safety_tolerance 7", "text-to-image", { ...t2i, safety_tolerance: "7" }, "safety_tolerance", "enum"],
    ["output_format default", "text-to-image", { ...t2i, output_format: "default" }, "output_format", "enum"],
    ["prompt as a number", "text-to-image", { prompt: 42 }, "prompt", "type"],
    ["seed as a string", "text-to-image", { ...t2i, seed: "42" }, "seed", "type"],
    ["unknown field", "text-to-image", { ...t2i, num_image: 2 }, "num_image", "unevaluatedProperties"],
    ["edit without image_url", "edit", { prompt: "x" }, "image_url", "required"],
    ["edit with a non-URL image", "edit", { prompt: "x", image_url: "ftp://x/y.png" }, "image_url", "pattern"],
    [
      "edit with image_urls",
      "edit",
      { prompt: "x", image_url: "https://a/b.png", image_urls: [] },
      "image_urls",
      "unevaluatedProperties",
    ],
    ["multi without image_urls", "multi", { prompt: "x" }, "image_urls", "required"],
    ["empty image_urls", "multi", { prompt: "x", image_urls: [] }, "image_urls", "minItems"],
    ["image_urls as a string", "multi", { prompt: "x", image_urls: "https://a/b.png" }, "image_urls", "type"],
    ["bad item in image_urls", "multi", { prompt: "x", image_urls: ["https://a/b.png", 7] }, "image_urls[1]", "type"],
  ];

  it.each(table)("%s", (_name, kind, input, field, rule) => {
    const result = validateInput(byKind[kind], input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toContainEqual(expect.objectContaining({ field, rule }));
    const issue = result.issues.find((i) => i.field === field)!;
    expect(issue.message.startsWith(field)).toBe(true);
    if (rule !== "required") expect(issue.value).toEqual(field === "image_urls[1]" ? 7 : input[field]);
  });

  it("lists every problem, not only the first, with value and rule in the message", () => {
    const result = validateInput(byKind["text-to-image"], { prompt: "x", num_images: 9, guidance_scale: 0, aspect_ratio: "2:1" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.field).sort()).toEqual(["aspect_ratio", "guidance_scale", "num_images"]);
    expect(formatIssues(result.issues)).toContain("num_images must be at most 4 (got 9)");
    expect(formatIssues(result.issues)).toContain('aspect_ratio must be one of "21:9"');
  });

  it("a value that is not an object is named as such", () => {
    const result = validateInput(byKind.edit, "a fox");
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({ field: "", rule: "type", message: 'value must be an object (got "a fox")' });
  });

  it("an unknown endpoint is an issue, not a crash", () => {
    const result = validateInput("fal-ai/flux-pro/v1.1", { prompt: "x" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.field).toBe("endpoint");
  });

  it("long data URIs are cut in messages", () => {
    const uri = `data:image/png;base64,${"A".repeat(10_000)}`;
    const result = validateInput(byKind.multi, { prompt: "x", image_urls: [uri], num_images: 0 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatIssues(result.issues).length).toBeLessThan(200);
  });

  it("accepts every valid aspect ratio and data URIs", () => {
    for (const aspect_ratio of ASPECT_RATIOS) {
      expect(validateInput(byKind["text-to-image"], { prompt: "x", aspect_ratio }).ok).toBe(true);
    }
    expect(validateInput(byKind.edit, { prompt: "x", image_url: "data:image/png;base64,iVBORw0KGgo=" }).ok).toBe(true);
  });
});

describe("response validators", () => {
  it("reject a submit response without request_id", () => {
    const result = validateSchema("SubmitResponse", {
      status: "IN_QUEUE",
      queue_position: 0,
      response_url: "https://q/x",
      status_url: "https://q/x/status",
      cancel_url: "https://q/x/cancel",
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toContainEqual(expect.objectContaining({ field: "request_id", rule: "required" }));
  });
  it("reject an output image without url", () => {
    const result = validateSchema("KontextOutput", {
      images: [{ width: 1 }],
      timings: {},
      seed: 1,
      has_nsfw_concepts: [false],
      prompt: "x",
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toContainEqual(expect.objectContaining({ field: "images[0].url", rule: "required" }));
  });
  it("reject a status that is not one of the three", () => {
    expect(validateSchema("QueueStatus", { status: "FAILED" }).ok).toBe(false);
    expect(validateSchema("QueueStatus", { status: "IN_PROGRESS", logs: [{ message: "hi" }] }).ok).toBe(true);
  });
});

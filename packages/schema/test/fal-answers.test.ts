/**
 * fal's documented answers (spec/DECISIONS.md rows 25–42), replayed through the compiled validators,
 * and the spec's structure that promises them: every error answer takes either error shape, 403 is
 * declared everywhere, the platform options are parameters, the bounds are enforced and exported.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type EndpointId,
  endpoints,
  formatIssues,
  INPUT_LIMITS,
  REQUEST_ERROR_TYPES,
  STORAGE_BASE_URL,
  STORAGE_UPLOAD,
  validateInput,
  validateSchema,
} from "../src/index.js";

type Json = Record<string, any>;
const read = (file: string): Json => JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"));
const queue = read("openapi.json");
const sync = read("sync.json");
const storage = read("storage.json");

const REQUEST_ID = "acf05732-7cb3-445b-9f39-fdaeccb1d730";
const base = `https://queue.fal.run/fal-ai/flux-pro/requests/${REQUEST_ID}`;
const EDIT = "fal-ai/flux-pro/kontext" satisfies EndpointId;
const MULTI = "fal-ai/flux-pro/kontext/max/multi" satisfies EndpointId;

/** The issues of a rejected value (fails the test when the value was accepted). */
function issuesOf(result: ReturnType<typeof validateSchema>) {
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.issues;
}

describe("error bodies: either shape validates wherever fal may send it", () => {
  const stringDetail422 = { detail: "Unprocessable Entity" };
  const arrayDetail500 = {
    detail: [{ loc: ["body"], msg: "The model could not process the request", type: "internal_server_error" }],
  };
  const locked403 = { detail: "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing." };
  const timeout504 = { detail: "Request timed out", error_type: "request_timeout" };
  const fullItem = {
    detail: [
      {
        loc: ["body", "num_images"],
        msg: "Input should be less than or equal to 4",
        type: "less_than_equal",
        url: "https://docs.pydantic.dev/2/errors/validation_errors#less_than_equal",
        ctx: { le: 4 },
        input: 5,
      },
    ],
  };

  it.each([
    ["a 422 with a string detail (fal-js response.ts)", stringDetail422],
    ["a model 500 with a detail array (fal docs, model errors)", arrayDetail500],
    ["a 403 for a locked account (fal-ai/fal #1147)", locked403],
    ["a flat 504 with a documented error_type", timeout504],
    ["a field error with url, ctx and input", fullItem],
    ["a flat error with an error_type fal has not documented yet", { detail: "x", error_type: "something_new" }],
  ])("%s", (_name, body) => {
    expect(validateSchema("ErrorBody", body)).toEqual({ ok: true, value: body });
  });

  it("the narrower schemas still tell the two shapes apart", () => {
    expect(validateSchema("HTTPValidationError", stringDetail422).ok).toBe(false);
    expect(validateSchema("FlatError", arrayDetail500).ok).toBe(false);
  });

  it("a body that is neither shape names both types it could have had", () => {
    const issues = issuesOf(validateSchema("ErrorBody", { detail: 5 }));
    expect(issues).toEqual([expect.objectContaining({ field: "detail", rule: "type" })]);
    expect(formatIssues(issues)).toBe("detail must be an array or a string (got 5)");
    expect(issuesOf(validateSchema("ErrorBody", { message: "x" }))).toContainEqual(
      expect.objectContaining({ field: "detail", rule: "required" }),
    );
  });

  it("a field error without msg is refused, naming the item", () => {
    const issues = issuesOf(validateSchema("ErrorBody", { detail: [{ loc: ["body"], type: "missing" }] }));
    expect(issues).toContainEqual(expect.objectContaining({ field: "detail[0].msg", rule: "required" }));
  });

  it("REQUEST_ERROR_TYPES lists fal's 13 documented types, and no undocumented example remains in the spec", () => {
    expect(REQUEST_ERROR_TYPES).toHaveLength(13);
    expect(REQUEST_ERROR_TYPES).toEqual(expect.arrayContaining(["request_timeout", "runner_scheduling_failure", "bad_request"]));
    const text = JSON.stringify([queue, sync, storage]);
    expect(text).not.toContain("request_in_progress");
    expect(text).not.toContain("rate_limited");
    const used = [...text.matchAll(/"error_type":"([a-z_]+)"/g)].map((match) => match[1]);
    expect(used.length).toBeGreaterThan(2);
    for (const type of used) expect(REQUEST_ERROR_TYPES).toContain(type);
  });
});

describe("cancel answers", () => {
  it.each([
    ["the cancel body", { status: "NOT_FOUND" }],
    ["fal's flat 404", { detail: "Request not found" }],
    ["already completed", { status: "ALREADY_COMPLETED" }],
  ])("a refusal with %s validates", (_name, body) => {
    expect(validateSchema("CancelRefusal", body).ok).toBe(true);
  });

  it("a refusal with neither shape names both missing fields", () => {
    const issues = issuesOf(validateSchema("CancelRefusal", { ok: false }));
    expect(issues.map((issue) => issue.field).sort()).toEqual(["detail", "status"]);
  });

  it("declares 200 OK, and the cancel refusals take either body", () => {
    const responses = queue.paths["/fal-ai/flux-pro/requests/{request_id}/cancel"].put.responses;
    expect(responses["200"].content["application/json"].schema.$ref).toBe("#/components/schemas/CancelResponse");
    for (const code of ["400", "404"]) {
      expect(responses[code].content["application/json"].schema.$ref).toBe("#/components/schemas/CancelRefusal");
    }
  });
});

describe("outputs, statuses and submit answers as fal sends them", () => {
  const output = (image: Json) => ({
    images: [image],
    timings: { inference: 1.2 },
    seed: 7,
    has_nsfw_concepts: [false],
    prompt: "a fox",
  });

  it("image fields may be null (fal toolkit: Optional[...] = None)", () => {
    const image = {
      url: "https://v3.fal.media/files/x.jpeg",
      content_type: null,
      file_name: null,
      file_size: null,
      width: null,
      height: null,
    };
    expect(validateSchema("KontextOutput", output(image)).ok).toBe(true);
  });

  it("but url may not, and a width of the wrong type is still refused", () => {
    expect(issuesOf(validateSchema("KontextOutput", output({ url: null })))).toContainEqual(
      expect.objectContaining({ field: "images[0].url", rule: "type" }),
    );
    expect(issuesOf(validateSchema("KontextOutput", output({ url: "u", width: "1024" })))).toContainEqual(
      expect.objectContaining({
        field: "images[0].width",
        rule: "type",
        message: 'images[0].width must be an integer or a null (got "1024")',
      }),
    );
  });

  it("a submit answer with only the request id and the three URLs validates (fal's queue docs)", () => {
    const answer = { request_id: REQUEST_ID, response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
    expect(validateSchema("SubmitResponse", answer).ok).toBe(true);
    expect(validateSchema("SubmitResponse", { ...answer, gateway_request_id: REQUEST_ID }).ok).toBe(true);
    const { cancel_url: _dropped, ...withoutCancel } = answer;
    expect(issuesOf(validateSchema("SubmitResponse", withoutCancel))).toContainEqual(
      expect.objectContaining({ field: "cancel_url", rule: "required" }),
    );
    expect(issuesOf(validateSchema("SubmitResponse", { ...answer, status: "IN_PROGRESS" }))).toContainEqual(
      expect.objectContaining({ field: "status", rule: "const" }),
    );
  });

  it("a COMPLETED status may carry error and error_type, either of them null", () => {
    const completed = { status: "COMPLETED", request_id: REQUEST_ID, error: "Invalid status code: 422", error_type: null };
    expect(validateSchema("QueueStatus", completed).ok).toBe(true);
    expect(validateSchema("QueueStatus", { ...completed, error: null, error_type: "runner_server_error" }).ok).toBe(true);
  });

  it("log lines as fal-js types them (source USER) validate", () => {
    const status = {
      status: "IN_PROGRESS",
      logs: [{ message: "step 1", level: "WARN", source: "USER", timestamp: "2025-07-10T12:00:01.000Z" }],
    };
    expect(validateSchema("QueueStatus", status).ok).toBe(true);
  });
});

describe("webhook deliveries", () => {
  const ok = {
    request_id: REQUEST_ID,
    gateway_request_id: REQUEST_ID,
    status: "OK",
    error: null,
    payload: { images: [{ url: "u" }], timings: {}, seed: 1, has_nsfw_concepts: [false], prompt: "p" },
  };

  it("an OK delivery with error null validates", () => {
    expect(validateSchema("WebhookPayload", ok).ok).toBe(true);
  });

  it("an ERROR delivery with either error body validates, and one with junk is refused", () => {
    const error = { ...ok, status: "ERROR", error: "Invalid status code: 422" };
    expect(validateSchema("WebhookPayload", { ...error, payload: { detail: [{ loc: ["body"], msg: "m", type: "t" }] } }).ok).toBe(
      true,
    );
    expect(validateSchema("WebhookPayload", { ...error, payload: { detail: "Request timed out" } }).ok).toBe(true);
    expect(validateSchema("WebhookPayload", { ...error, payload: null, payload_error: "not serialisable" }).ok).toBe(true);
    expect(validateSchema("WebhookPayload", { ...error, payload: { detail: 42 } }).ok).toBe(false);
  });

  it("the signature headers are parameters of the webhook, and both key-set hosts are named", () => {
    const webhook = queue.webhooks.falWebhook.post;
    const parameters: Json[] = webhook.parameters.map(
      (parameter: Json) => queue.components.parameters[parameter.$ref.split("/").pop()],
    );
    const names = parameters.map((parameter) => parameter.name);
    expect(names).toEqual([
      "x-fal-webhook-request-id",
      "x-fal-webhook-user-id",
      "x-fal-webhook-timestamp",
      "x-fal-webhook-signature",
    ]);
    expect(parameters.every((parameter) => parameter.in === "header" && parameter.required)).toBe(true);
    expect(webhook.description).toContain("https://rest.fal.ai/.well-known/jwks.json");
    expect(webhook.description).toContain("https://rest.alpha.fal.ai/.well-known/jwks.json");
  });
});

describe("image sources: any http(s) URL, any data: URL, in any case", () => {
  it.each([
    "http://example.org/photo.png",
    "HTTPS://EXAMPLE.ORG/PHOTO.PNG",
    "data:image/avif;base64,AAAAHGZ0eXBhdmlm",
    "data:application/octet-stream;base64,AAAAHGZ0eXBhdmlm",
    "DATA:IMAGE/PNG;BASE64,iVBORw0KGgo=",
    "Data:,hello",
  ])("%s is accepted by the edit and multi inputs", (url) => {
    expect(validateInput(EDIT, { prompt: "x", image_url: url }).ok).toBe(true);
    expect(validateInput(MULTI, { prompt: "x", image_urls: [url] }).ok).toBe(true);
  });

  it.each([
    "ftp://example.org/a.png",
    "https://",
    "//example.org/a.png",
    "photo.png",
    " https://example.org/a.png",
    "javascript:alert(1)",
  ])("%s is refused, naming image_url", (url) => {
    expect(issuesOf(validateInput(EDIT, { prompt: "x", image_url: url }))).toEqual([
      expect.objectContaining({ field: "image_url", rule: "pattern", value: url }),
    ]);
  });
});

describe("bounds (spec/DECISIONS.md 38–40)", () => {
  it("INPUT_LIMITS is read from the spec", () => {
    const inputBase = queue.components.schemas.KontextInputBase;
    const multi = queue.components.schemas.MultiEditInput.allOf[1].properties.image_urls;
    expect(INPUT_LIMITS).toEqual({
      promptMaxLength: inputBase.properties.prompt.maxLength,
      imageUrlsMaxItems: multi.maxItems,
      maxJsonDepth: inputBase["x-max-json-depth"],
      maxBodyBytes: inputBase["x-max-body-bytes"],
    });
    expect(INPUT_LIMITS).toEqual({
      promptMaxLength: 10_000,
      imageUrlsMaxItems: 10,
      maxJsonDepth: 32,
      maxBodyBytes: 10 * 1024 * 1024,
    });
  });

  it("a prompt at the limit passes; one character more is refused, naming prompt and the bound", () => {
    const at = "a".repeat(INPUT_LIMITS.promptMaxLength);
    expect(validateInput(EDIT, { prompt: at, image_url: "https://a/b.png" }).ok).toBe(true);
    const issues = issuesOf(validateInput(EDIT, { prompt: `${at}a`, image_url: "https://a/b.png" }));
    expect(issues).toEqual([expect.objectContaining({ field: "prompt", rule: "maxLength" })]);
    expect(formatIssues(issues)).toMatch(/^prompt must be at most 10000 characters long \(got "a+\.\.\.\)$/);
    expect(formatIssues(issues).length).toBeLessThan(120);
  });

  it("the prompt bound counts characters, not UTF-16 units", () => {
    const foxes = "\u{1F98A}".repeat(INPUT_LIMITS.promptMaxLength);
    expect(validateInput(EDIT, { prompt: foxes, image_url: "https://a/b.png" }).ok).toBe(true);
  });

  it("ten image_urls pass; eleven are refused, naming image_urls and the bound", () => {
    const urls = Array.from({ length: INPUT_LIMITS.imageUrlsMaxItems }, (_, index) => `https://a/${index}.png`);
    expect(validateInput(MULTI, { prompt: "x", image_urls: urls }).ok).toBe(true);
    const issues = issuesOf(validateInput(MULTI, { prompt: "x", image_urls: [...urls, "https://a/10.png"] }));
    expect(issues).toEqual([expect.objectContaining({ field: "image_urls", rule: "maxItems" })]);
    expect(formatIssues(issues)).toContain("image_urls must have at most 10 items");
  });

  it("300,000 image_urls are refused without listing each one", () => {
    const issues = issuesOf(validateInput(MULTI, { prompt: "x", image_urls: new Array(300_000).fill("https://a/b.png") }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ field: "image_urls", rule: "maxItems" });
  });
});

describe("the spec's operations", () => {
  const errorCodes = (responses: Json) => Object.keys(responses).filter((code) => /^[45]/.test(code));
  const schemaOf = (doc: Json, response: Json): string | undefined => {
    const resolved = response.$ref ? doc.components.responses[response.$ref.split("/").pop()] : response;
    return resolved.content?.["application/json"]?.schema?.$ref?.split("/").pop();
  };
  const operations: Array<[string, Json, Json]> = [];
  for (const [doc, name] of [
    [queue, "queue"],
    [sync, "sync"],
  ] as const) {
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) operations.push([`${name} ${method} ${path}`, op, doc]);
    }
  }

  it.each(operations)("%s: every error answer is ErrorBody (or CancelRefusal), and 403 is declared", (_name, op, doc) => {
    const codes = errorCodes(op.responses);
    expect(codes).toContain("403");
    for (const code of codes) expect(["ErrorBody", "CancelRefusal"]).toContain(schemaOf(doc, op.responses[code]));
  });

  it("result and sync runs declare 503 and a 504 that names the timeout type", () => {
    const result = queue.paths["/fal-ai/flux-pro/requests/{request_id}"].get.responses;
    for (const responses of [result, ...Object.values<Json>(sync.paths).map((item) => item.post.responses)]) {
      expect(responses["503"]).toBeDefined();
      const timeout = queue.components.responses[responses["504"].$ref.split("/").pop()];
      expect(Object.keys(timeout.headers)).toContain("x-fal-request-timeout-type");
    }
    expect(Object.keys(queue.components.responses.UnprocessableInput.headers)).toContain("X-Fal-Retryable");
  });

  it("every model operation links fal's model page", () => {
    for (const [id, info] of Object.entries(endpoints)) {
      const url = `https://fal.ai/models/${id}/api`;
      expect(queue.paths[`/${id}`].post.externalDocs.url).toBe(url);
      expect(sync.paths[`/${id}`].post.externalDocs.url).toBe(url);
      expect(queue.paths[`/${id}`].post.operationId).toBe(info.operationId);
    }
  });

  it("submits take fal's platform options; sync runs take those that apply to every inference method", () => {
    const names = (doc: Json, parameters: Json[]) =>
      parameters.map(
        (parameter) => (parameter.$ref ? doc.components.parameters[parameter.$ref.split("/").pop()] : parameter).name,
      );
    const submit = names(queue, queue.paths["/fal-ai/flux-pro/kontext"].post.parameters);
    expect(submit).toEqual(
      expect.arrayContaining([
        "fal_webhook",
        "fal_max_queue_length",
        "x-fal-request-timeout",
        "x-fal-no-retry",
        "x-fal-store-io",
        "x-fal-object-lifecycle-preference",
      ]),
    );
    const run = names(sync, sync.paths["/fal-ai/flux-pro/kontext"].post.parameters);
    expect(run.sort()).toEqual([
      "x-fal-object-lifecycle-preference",
      "x-fal-request-timeout",
      "x-fal-runner-hint",
      "x-fal-store-io",
    ]);
    expect(queue.components.parameters.RequestTimeout.schema).toEqual({ type: "number", exclusiveMinimum: 1 });
  });
});

describe("storage uploads (spec/storage.yaml)", () => {
  it("exports the REST host, the initiate paths and fal-js's multipart sizes", () => {
    expect(STORAGE_BASE_URL).toBe("https://rest.fal.ai");
    expect(STORAGE_UPLOAD).toEqual({
      initiatePath: "/storage/upload/initiate",
      initiateMultipartPath: "/storage/upload/initiate-multipart",
      storageType: "fal-cdn-v3",
      multipartThresholdBytes: 90 * 1024 * 1024,
      partBytes: 10 * 1024 * 1024,
    });
  });

  it("validates the initiate answer and a part answer", () => {
    const initiated = { upload_url: "https://v3.fal.media/files/upload/x?sig=1", file_url: "https://v3.fal.media/files/x" };
    expect(validateSchema("InitiateUploadResponse", initiated).ok).toBe(true);
    expect(issuesOf(validateSchema("InitiateUploadResponse", { file_url: initiated.file_url }))).toContainEqual(
      expect.objectContaining({ field: "upload_url", rule: "required" }),
    );
    expect(validateSchema("UploadedPart", { partNumber: 1, etag: '"abc"' }).ok).toBe(true);
    expect(issuesOf(validateSchema("UploadedPart", { partNumber: 0, etag: "x" }))).toContainEqual(
      expect.objectContaining({ field: "partNumber", rule: "minimum" }),
    );
  });

  it("the signed-URL operations carry no credentials; the initiate ones do", () => {
    for (const [path, item] of Object.entries<Json>(storage.paths)) {
      for (const op of Object.values<Json>(item).filter((value) => value?.operationId)) {
        if (path.startsWith("/storage/")) expect(op.security).toBeUndefined();
        else expect(op.security).toEqual([]);
      }
    }
    expect(storage.security).toEqual([{ falKey: [] }, { gatewayBearer: [] }]);
  });
});

/**
 * Property test: the validators compiled at build time (Ajv standalone code, packages/schema/src/generated)
 * accept exactly what a plain Ajv instance accepts when it compiles the bundled spec at run time.
 * The runtime Ajv is the oracle; the inputs are generated, biased toward the real fields with right and
 * wrong types, values in and out of range, extra keys and missing required fields.
 */
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ASPECT_RATIOS,
  type EndpointKind,
  endpoints,
  OUTPUT_FORMATS,
  SAFETY_TOLERANCES,
  type ValidatedSchemaName,
  validateInput,
  validateSchema,
} from "../src/index.js";

const RUNS = 10_000;
const spec = JSON.parse(readFileSync(new URL("../openapi.json", import.meta.url), "utf8"));
const storageSpec = JSON.parse(readFileSync(new URL("../storage.json", import.meta.url), "utf8"));

/** The format definitions scripts/generate.ts compiles into the validators (checked against that file below). */
const FORMATS = {
  uri: /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/,
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?$/,
};

function oracle() {
  const ajv = new Ajv2020({ allErrors: true, strict: false, discriminator: false });
  addFormats(ajv);
  for (const [name, re] of Object.entries(FORMATS)) ajv.addFormat(name, re);
  ajv.addSchema({ $id: "kontext", components: spec.components });
  ajv.addSchema({ $id: "kontext-storage", components: storageSpec.components });
  return (schema: string) => {
    const id = storageSpec.components.schemas[schema] && !spec.components.schemas[schema] ? "kontext-storage" : "kontext";
    const validate = ajv.getSchema(`${id}#/components/schemas/${schema}`);
    if (!validate) throw new Error(`oracle: no schema ${schema}`);
    return (value: unknown) => validate(value) as boolean;
  };
}

// One endpoint per kind; the other endpoints of a kind share the same input schema (checked below).
const endpointOf = {
  "text-to-image": "fal-ai/flux-pro/kontext/text-to-image",
  edit: "fal-ai/flux-pro/kontext/max",
  multi: "fal-ai/flux-pro/kontext/max/multi",
} as const satisfies Record<EndpointKind, keyof typeof endpoints>;

// ---- generators ------------------------------------------------------------------------------

/** Values of the wrong JSON type (and a few non-JSON ones a JS caller can still pass). */
const junk = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, [], {}, "") },
);

/** Mostly right (weight 12), sometimes at or past the edge (2), sometimes the wrong type altogether (1). */
const field = <T>(right: fc.Arbitrary<T>, edge: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 12, arbitrary: right }, { weight: 2, arbitrary: edge }, { weight: 1, arbitrary: junk });

const edgeNumbers = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: min - 3, max: max + 3 }),
    fc.double({ min: min - 1, max: max + 1, noNaN: true }),
    fc.constantFrom(min, max, min - Number.EPSILON, max + 1e-9, 2 ** 53, -(2 ** 31), 1e21, `${min}`, `${max}`, true, null),
  );

const goodImage = fc.oneof(
  fc.webUrl({ validSchemes: ["http", "https"] }),
  fc.base64String({ maxLength: 16 }).map((b) => `data:image/png;base64,${b}`),
);
const badImage = fc.oneof(
  fc.constantFrom(
    "https://",
    "http://x",
    "HTTPS://example.com/a.png",
    "ftp://example.com/a.png",
    "data:text/plain,hi",
    "data:image/",
    " https://example.com/a.png",
    "example.com/a.png",
    "",
  ),
  fc.string({ maxLength: 12 }),
);
const imageSource = fc.oneof({ weight: 8, arbitrary: goodImage }, { weight: 2, arbitrary: badImage });

const fields = {
  prompt: field(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom("", " ", "\u{1F98A}", "\uD800")),
  seed: field(fc.nat(), fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(2 ** 53 - 1, 2 ** 53 + 2, 0.5, 1.0, "42"))),
  guidance_scale: field(fc.double({ min: 1, max: 20, noNaN: true }), edgeNumbers(1, 20)),
  num_images: field(fc.integer({ min: 1, max: 4 }), edgeNumbers(1, 4)),
  sync_mode: field(fc.boolean(), fc.constantFrom("true", 0, 1, null)),
  enhance_prompt: field(fc.boolean(), fc.constantFrom("false", 0, 1, null)),
  output_format: field(fc.constantFrom(...OUTPUT_FORMATS), fc.constantFrom("JPEG", "jpg", "webp", "png ", "")),
  safety_tolerance: field(fc.constantFrom(...SAFETY_TOLERANCES), fc.constantFrom(0, 1, 2, 6, "0", "7", "02", " 2")),
  aspect_ratio: field(fc.constantFrom(...ASPECT_RATIOS), fc.constantFrom("1:2", "16/9", "16:9 ", "auto", "", 1.5)),
  image_url: field(goodImage, badImage),
  image_urls: field(fc.array(imageSource, { minLength: 1, maxLength: 4 }), fc.oneof(fc.constant([]), imageSource)),
} as const;

type Field = keyof typeof fields;
const shared: Field[] = [
  "prompt",
  "seed",
  "guidance_scale",
  "num_images",
  "sync_mode",
  "enhance_prompt",
  "output_format",
  "safety_tolerance",
  "aspect_ratio",
];
const own: Record<EndpointKind, { required: Field[]; foreign: Field[] }> = {
  "text-to-image": { required: ["prompt"], foreign: ["image_url", "image_urls"] },
  edit: { required: ["prompt", "image_url"], foreign: ["image_urls"] },
  multi: { required: ["prompt", "image_urls"], foreign: ["image_url"] },
};

const extraKeys = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("Prompt", "seed ", "imageUrl", "constructor", "toString", "image")),
  junk,
  { maxKeys: 2 },
);

/** An input for one endpoint kind: real fields mostly present, sometimes wrong, sometimes missing, sometimes extra. */
function inputFor(kind: EndpointKind): fc.Arbitrary<unknown> {
  const { required, foreign } = own[kind];
  const known = [...shared, ...(kind === "edit" ? ["image_url" as const] : kind === "multi" ? ["image_urls" as const] : [])];
  // Required fields are present 95% of the time, optional ones half of the time.
  const present = (f: Field) => fc.integer({ min: 0, max: 99 }).map((n) => n < (required.includes(f) ? 95 : 50));
  const entries = known.map((f) => fc.tuple(fc.constant(f), present(f), fields[f]));
  const object = fc
    .tuple(
      fc.tuple(...entries),
      // Fields of the other kinds are rare: they are always an error.
      fc.subarray(foreign).chain((fs) => fc.tuple(...fs.map((f) => fc.tuple(fc.constant(f), fields[f])))),
      fc.oneof({ weight: 6, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraKeys }),
      fc.integer({ min: 0, max: 19 }),
    )
    .map(([known, foreignEntries, extra, dice]) => {
      const out: Record<string, unknown> = {};
      for (const [f, on, v] of known) if (on) out[f] = v;
      if (dice === 0) for (const [f, v] of foreignEntries) out[f] = v;
      Object.assign(out, extra);
      return out;
    });
  return fc.oneof({ weight: 40, arbitrary: object }, { weight: 1, arbitrary: junk });
}

// ---- properties -------------------------------------------------------------------------------

const compile = oracle();

describe("compiled validators agree with Ajv on the bundled spec", () => {
  it("uses the format definitions of scripts/generate.ts", () => {
    const generate = readFileSync(new URL("../../../scripts/generate.ts", import.meta.url), "utf8");
    for (const [name, re] of Object.entries(FORMATS)) {
      const key = /^\w+$/.test(name) ? name : JSON.stringify(name);
      expect(generate).toContain(`${key}: ${re},`);
    }
  });

  it("every endpoint of a kind uses that kind's input schema", () => {
    for (const info of Object.values(endpoints)) expect(info.input).toBe(endpoints[endpointOf[info.kind]].input);
  });

  for (const kind of Object.keys(endpointOf) as EndpointKind[]) {
    it(`${kind}: ${RUNS.toLocaleString("en")} generated inputs`, () => {
      const endpoint = endpointOf[kind];
      const reference = compile(endpoints[endpoint].input);
      let accepted = 0;
      fc.assert(
        fc.property(inputFor(kind), (input) => {
          const expected = reference(input);
          const result = validateInput(endpoint, input);
          expect(result.ok).toBe(expected);
          if (result.ok) {
            accepted++;
            expect(result.value).toBe(input);
          } else {
            // A rejection always says why.
            expect(result.issues.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: RUNS },
      );
      // The generator must exercise both sides, or agreement proves little.
      expect(accepted).toBeGreaterThan(RUNS * 0.05);
      expect(accepted).toBeLessThan(RUNS * 0.95);
      // Generous: 10,000 runs against two validators take seconds on a loaded machine, and this is
      // an agreement check, not a timing one.
    }, 120_000);
  }
});

// ---- response bodies ----------------------------------------------------------------------------

/** Real-looking answers to start from: the spec's examples plus the shapes fal documents. */
const seeds: unknown[] = [
  ...Object.values<{ value: unknown }>(spec.components.examples).map((example) => example.value),
  ...Object.values<{ value: unknown }>(storageSpec.components.examples).map((example) => example.value),
  { status: "NOT_FOUND" },
  { detail: "Request not found" },
  { detail: "Request timed out", error_type: "request_timeout" },
  { status: "COMPLETED", error: null, error_type: null, metrics: { inference_time: null } },
  { images: [{ url: "u", content_type: null, width: null }], timings: {}, seed: 1, has_nsfw_concepts: [], prompt: "" },
];

/** Every object or array inside a value, so a mutation can reach any depth. */
function containers(value: unknown, into: Array<Record<string, unknown> | unknown[]> = []) {
  if (value && typeof value === "object") {
    into.push(value as Record<string, unknown>);
    for (const child of Object.values(value)) containers(child, into);
  }
  return into;
}

const mutation = fc.record({
  at: fc.nat(),
  action: fc.constantFrom("delete", "set", "add", "null"),
  key: fc.constantFrom("detail", "status", "url", "extra", "error_type", "request_id", "width", "loc", "payload"),
  value: junk,
});

/** A seed with up to three random edits: a field removed, replaced by junk or null, or a key added. */
const responseBody = fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 3 })).map(([seed, edits]) => {
  const body = structuredClone(seed);
  for (const edit of edits) {
    const targets = containers(body);
    const target = targets[edit.at % Math.max(targets.length, 1)];
    if (!target) continue;
    const keys = Object.keys(target);
    const key = edit.action === "add" || keys.length === 0 ? edit.key : keys[edit.at % keys.length]!;
    const record = target as Record<string, unknown>;
    if (edit.action === "delete") delete record[key];
    // A copy: fast-check hands out the same constant objects ({}, []) again, and editing a shared one
    // would leak into later runs (or make a cycle).
    else record[key] = edit.action === "null" ? null : structuredClone(edit.value);
  }
  return body;
});

const RESPONSE_SCHEMAS: ValidatedSchemaName[] = [
  "SubmitResponse",
  "QueueStatus",
  "InQueueStatus",
  "InProgressStatus",
  "CompletedStatus",
  "KontextOutput",
  "CancelResponse",
  "CancelRefusal",
  "HTTPValidationError",
  "FlatError",
  "ErrorBody",
  "WebhookPayload",
  "InitiateUploadResponse",
  "UploadedPart",
];

describe("compiled response validators agree with Ajv on the bundled spec", () => {
  it.each(RESPONSE_SCHEMAS)(
    "%s: 2,000 mutated answers",
    (name) => {
      const reference = compile(name);
      let accepted = 0;
      fc.assert(
        fc.property(responseBody, (body) => {
          const expected = reference(body);
          const result = validateSchema(name, body);
          expect(result.ok).toBe(expected);
          if (result.ok) accepted++;
          else expect(result.issues.length).toBeGreaterThan(0);
        }),
        { numRuns: 2_000 },
      );
      // Both sides must be exercised for the agreement to mean something.
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(2_000);
    },
    120_000,
  );
});

/**
 * Property test: for any input the schema's validators reject, the client sends nothing — submit,
 * subscribe and run all reject with a KontextValidationError and the injected fetch is never called.
 * The control: inputs that pass do reach fetch, and a client built without validation sends even the
 * bad ones, so a client that skipped validation would fail this test.
 */
import { type EndpointId, endpoints, validateInput } from "@kontext-sdk/schema";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createKontextClient, createKontextClientLite, KontextValidationError } from "../src/index.js";

const RUNS = 1_000;
const ids = Object.keys(endpoints) as EndpointId[];

const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(undefined, Number.NaN, -1, "", [], {}));
const field = <T>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 10, arbitrary: right }, { weight: 1, arbitrary: wrong }, { weight: 1, arbitrary: junk });
const image = fc.oneof(
  fc.webUrl({ validSchemes: ["https"] }),
  fc.constantFrom("data:image/png;base64,iVBORw0KGgo=", "ftp://example.com/a.png", "example.com/a.png", ""),
);
const fields: Record<string, fc.Arbitrary<unknown>> = {
  prompt: field(fc.string({ minLength: 1, maxLength: 20 }), fc.constant("")),
  seed: field(fc.nat(), fc.constantFrom(-1, 1.5, "7")),
  guidance_scale: field(fc.double({ min: 1, max: 20, noNaN: true }), fc.constantFrom(0, 20.5, "3.5")),
  num_images: field(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 5, 2.5)),
  output_format: field(fc.constantFrom("jpeg", "png"), fc.constantFrom("webp", "JPEG")),
  safety_tolerance: field(fc.constantFrom("1", "2", "6"), fc.constantFrom(2, "7")),
  aspect_ratio: field(fc.constantFrom("1:1", "16:9", "9:21"), fc.constantFrom("1:2", 1)),
  sync_mode: field(fc.boolean(), fc.constant("true")),
  enhance_prompt: field(fc.boolean(), fc.constant(0)),
  image_url: field(image, fc.constant(42)),
  image_urls: field(fc.array(image, { minLength: 1, maxLength: 3 }), fc.constant([])),
};

const shared = [
  "prompt",
  "seed",
  "guidance_scale",
  "num_images",
  "output_format",
  "safety_tolerance",
  "aspect_ratio",
  "sync_mode",
  "enhance_prompt",
];
const imageField = { "text-to-image": undefined, edit: "image_url", multi: "image_urls" } as const;

/** An input for one endpoint: its own fields, each right or wrong, any of them missing; now and then a foreign or unknown key. */
function inputFor(endpoint: EndpointId): fc.Arbitrary<unknown> {
  const own = imageField[endpoints[endpoint].kind];
  const keys = own ? [...shared, own] : shared;
  const record = fc.record(Object.fromEntries(keys.map((k) => [k, fields[k]!])), {
    requiredKeys: own ? ["prompt", own] : ["prompt"],
  });
  return fc.oneof(
    { weight: 20, arbitrary: record },
    {
      weight: 2,
      arbitrary: record.map((o) => ({ ...o, [own === "image_url" ? "image_urls" : "image_url"]: "https://example.com/a.png" })),
    },
    { weight: 2, arbitrary: record.map((o) => ({ ...o, extra_field: 1 })) },
    { weight: 2, arbitrary: record.map(({ prompt: _, ...rest }) => rest) },
    ...(own ? [{ weight: 2, arbitrary: record.map(({ [own]: _, ...rest }) => rest) }] : []),
    { weight: 1, arbitrary: junk },
  );
}
const endpointAndInput = fc.constantFrom(...ids).chain((endpoint) => fc.tuple(fc.constant(endpoint), inputFor(endpoint)));

const call = fc.constantFrom("submit", "subscribe", "run") as fc.Arbitrary<"submit" | "subscribe" | "run">;

/** A fetch that records calls and always fails, so an input that passes validation ends fast. */
function spyFetch() {
  const calls: string[] = [];
  const fetch = (async (url: RequestInfo | URL) => {
    calls.push(String(url));
    throw new Error("network stub: nothing is served here");
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

async function attempt(
  client: Pick<ReturnType<typeof createKontextClient>, "submit" | "subscribe" | "run">,
  method: "submit" | "subscribe" | "run",
  endpoint: EndpointId,
  value: unknown,
) {
  try {
    await client[method](endpoint, value as never);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe("the client sends nothing for an input that fails validation", () => {
  it(`${RUNS.toLocaleString("en")} generated inputs across the six endpoints and submit / subscribe / run`, async () => {
    let rejected = 0;
    let passed = 0;
    await fc.assert(
      fc.asyncProperty(endpointAndInput, call, async ([endpoint, value], method) => {
        const spy = spyFetch();
        const client = createKontextClient({ credentials: "test", fetch: spy.fetch, retry: false });
        const error = await attempt(client, method, endpoint, value);
        if (validateInput(endpoint, value).ok) {
          passed++;
          // The control: a valid input does reach the network.
          expect(spy.calls.length).toBeGreaterThan(0);
          expect(error).not.toBeInstanceOf(KontextValidationError);
        } else {
          rejected++;
          expect(error).toBeInstanceOf(KontextValidationError);
          expect((error as KontextValidationError).issues.length).toBeGreaterThan(0);
          expect(spy.calls).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
    // Both sides must be exercised for the property to mean anything.
    expect(rejected).toBeGreaterThan(RUNS * 0.2);
    expect(passed).toBeGreaterThan(RUNS * 0.05);
  });

  it("without validation the same bad inputs do go out (the property can fail)", async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(endpointAndInput, async ([endpoint, value]) => {
        fc.pre(!validateInput(endpoint, value).ok && typeof value === "object" && value !== null && !Array.isArray(value));
        const spy = spyFetch();
        const client = createKontextClientLite({ credentials: "test", fetch: spy.fetch, retry: false });
        await attempt(client, "submit", endpoint, value);
        if (spy.calls.length > 0) sent++;
      }),
      { numRuns: 100 },
    );
    expect(sent).toBeGreaterThan(0);
  });
});

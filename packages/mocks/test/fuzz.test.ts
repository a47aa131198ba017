/** Whatever a client sends, the mock answers in a documented shape and never crashes. */
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { setup, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

const ENDPOINTS = [
  "fal-ai/flux-pro/kontext/text-to-image",
  "fal-ai/flux-pro/kontext/max",
  "fal-ai/flux-pro/kontext/max/multi",
] as const;

const field = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.integer({ min: -5, max: 30 }),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constantFrom("1:1", "16:9", "png", "jpeg", "2", "https://e.org/a.png", "data:image/png;base64,AA"),
);

const input = fc.record(
  {
    prompt: fc.oneof(fc.string({ minLength: 0, maxLength: 20 }), field),
    image_url: field,
    image_urls: fc.oneof(fc.array(fc.constantFrom("https://e.org/a.png", "ftp://x", ""), { maxLength: 3 }), field),
    seed: field,
    num_images: field,
    guidance_scale: field,
    aspect_ratio: field,
    output_format: field,
    safety_tolerance: field,
    sync_mode: field,
    enhance_prompt: field,
    extra: field,
  },
  { requiredKeys: [] },
);

it("answers 200, 400 or 422 — spec-valid — for any body", async () => {
  const t = setup();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ENDPOINTS),
      fc.oneof(input, fc.jsonValue()),
      fc.boolean(),
      async (endpoint, body, sync) => {
        const text = JSON.stringify(body) ?? "";
        const url = sync ? `https://fal.run/${endpoint}` : `/${endpoint}`;
        const r = await t.call(url, { method: "POST", body: text });
        expect([200, 400, 422]).toContain(r.status);
        if (r.status === 422) {
          const { detail } = await r.json();
          expect(detail.length).toBeGreaterThan(0);
          for (const item of detail) expect(item.loc[0]).toBe("body");
        }
      },
    ),
    { numRuns: 300, seed: 42 },
  );
  expect(violations).toEqual([]);
});

/**
 * Issue 15 (9): the spec's bounds (prompt length, `image_urls` count) are answered with a 4xx naming the
 * bound: a 422 at submit with `validateAt: "submit"`, otherwise (fal's timing) the job's result.
 */
import { INPUT_LIMITS } from "@kontext-sdk/schema";
import { afterAll, describe, expect, it } from "vitest";
import { setup, violations } from "../helpers.js";

afterAll(() => expect(violations).toEqual([]));

const MULTI = "fal-ai/flux-pro/kontext/max/multi";
const longPrompt = "x".repeat(INPUT_LIMITS.promptMaxLength + 1);
const manyImages = Array.from({ length: INPUT_LIMITS.imageUrlsMaxItems + 1 }, (_, index) => `https://e.org/${index}.png`);

const promptError = {
  loc: ["body", "prompt"],
  msg: `String should have at most ${INPUT_LIMITS.promptMaxLength} characters`,
  type: "string_too_long",
  ctx: { max_length: INPUT_LIMITS.promptMaxLength },
};
const imagesError = {
  loc: ["body", "image_urls"],
  msg: `List should have at most ${INPUT_LIMITS.imageUrlsMaxItems} items after validation, not ${manyImages.length}`,
  type: "too_long",
  ctx: { max_length: INPUT_LIMITS.imageUrlsMaxItems, actual_length: manyImages.length },
};

describe("input bounds", () => {
  it("validateAt: submit answers a 422 naming the bound, and queues nothing", async () => {
    const t = setup({ validateAt: "submit" });
    const prompt = await t.submit({ prompt: longPrompt });
    expect([prompt.response.status, prompt.body]).toEqual([422, { detail: [promptError] }]);
    const images = await t.submit({ prompt: "x", image_urls: manyImages }, MULTI);
    expect([images.response.status, images.body]).toEqual([422, { detail: [imagesError] }]);
    expect(t.mock.jobs.size).toBe(0);
  });

  it("by default the job is queued and its result is the same 422 (the long input not echoed back)", async () => {
    const t = setup();
    for (const [input, endpoint, error] of [
      [{ prompt: longPrompt }, "fal-ai/flux-pro/kontext/text-to-image", promptError],
      [{ prompt: "x", image_urls: manyImages }, MULTI, imagesError],
    ] as const) {
      const { response, body } = await t.submit(input, endpoint);
      expect(response.status).toBe(200);
      t.clock.advance(1_000);
      const status = await (await t.call(body.status_url)).json();
      expect(status).toMatchObject({ status: "COMPLETED", error: "Invalid status code: 422", error_type: "validation_error" });
      const result = await t.call(body.response_url);
      expect(result.status).toBe(422);
      expect(result.headers.get("x-fal-retryable")).toBe("false");
      const text = await result.text();
      expect(JSON.parse(text)).toEqual({ detail: [error] });
      expect(text.length).toBeLessThan(1_000);
    }
  });
});

import { describe, expectTypeOf, it } from "vitest";
import type {
  EditInput,
  EndpointId,
  InputOf,
  KontextOutput,
  MultiEditInput,
  OutputOf,
  QueueStatus,
  TextToImageInput,
} from "../src/index.js";

describe("types", () => {
  it("an edit input needs image_url", () => {
    // @ts-expect-error image_url is required on edit inputs
    const edit: EditInput = { prompt: "x" };
    void edit;
    expectTypeOf<EditInput["image_url"]>().toEqualTypeOf<string>();
  });

  it('safety_tolerance is a string enum: "7" and 2 do not compile', () => {
    // @ts-expect-error "7" is not a safety tolerance
    const a: TextToImageInput = { prompt: "x", safety_tolerance: "7" };
    // @ts-expect-error a number is not a safety tolerance
    const b: TextToImageInput = { prompt: "x", safety_tolerance: 2 };
    void a;
    void b;
    expectTypeOf<NonNullable<TextToImageInput["safety_tolerance"]>>().toEqualTypeOf<"1" | "2" | "3" | "4" | "5" | "6">();
  });

  it("inputs and outputs are inferred from the endpoint id", () => {
    expectTypeOf<InputOf<"fal-ai/flux-pro/kontext/max">>().toEqualTypeOf<EditInput>();
    expectTypeOf<InputOf<"fal-ai/flux-pro/kontext/max/multi">>().toEqualTypeOf<MultiEditInput>();
    expectTypeOf<InputOf<"fal-ai/flux-pro/kontext/text-to-image">>().toEqualTypeOf<TextToImageInput>();
    expectTypeOf<OutputOf<"fal-ai/flux-pro/kontext/max/multi">["images"][number]["url"]>().toEqualTypeOf<string>();
    expectTypeOf<OutputOf<"fal-ai/flux-pro/kontext">>().toEqualTypeOf<KontextOutput>();
  });

  it("endpoint ids are a closed union", () => {
    expectTypeOf<"fal-ai/flux-pro/kontext/max">().toExtend<EndpointId>();
    expectTypeOf<"fal-ai/flux-pro/v1.1">().not.toExtend<EndpointId>();
  });

  it("QueueStatus narrows on status", () => {
    const s = {} as QueueStatus;
    if (s.status === "IN_QUEUE") expectTypeOf(s.queue_position).toEqualTypeOf<number>();
    if (s.status === "COMPLETED") expectTypeOf(s.error).toEqualTypeOf<string | null | undefined>();
  });
});

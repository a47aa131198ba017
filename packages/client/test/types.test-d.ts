import type { KontextImage, KontextOutput } from "@kontext-sdk/schema";
import { describe, expectTypeOf, it } from "vitest";
import {
  type CancelResponse,
  createKontextClient,
  createKontextClientLite,
  createKontextRawClient,
  type EndpointId,
  type KontextInput,
  type KontextResult,
  type QueueStatus,
  type SubmitResult,
} from "../src/index.js";

const c = createKontextClient();

describe("per-endpoint inference", () => {
  it("text-to-image takes a prompt and no image", () => {
    c.subscribe("fal-ai/flux-pro/kontext/text-to-image", { prompt: "a fox", aspect_ratio: "16:9", safety_tolerance: "2" });
    // @ts-expect-error prompt is required
    c.subscribe("fal-ai/flux-pro/kontext/text-to-image", { num_images: 2 });
    // @ts-expect-error safety_tolerance is a string enum, not a number
    c.subscribe("fal-ai/flux-pro/kontext/text-to-image", { prompt: "a", safety_tolerance: 2 });
    // @ts-expect-error aspect ratios come from the spec's enum
    c.subscribe("fal-ai/flux-pro/kontext/max/text-to-image", { prompt: "a", aspect_ratio: "5:4" });
  });

  it("edit endpoints need image_url, which may be binary", () => {
    c.submit("fal-ai/flux-pro/kontext/max", { prompt: "a", image_url: "https://x/a.png" });
    c.submit("fal-ai/flux-pro/kontext", { prompt: "a", image_url: new Blob([]) });
    c.submit("fal-ai/flux-pro/kontext", { prompt: "a", image_url: new Uint8Array(1) });
    // @ts-expect-error image_url is required for edits
    c.submit("fal-ai/flux-pro/kontext/max", { prompt: "a" });
    // @ts-expect-error a number is no image
    c.submit("fal-ai/flux-pro/kontext/max", { prompt: "a", image_url: 1 });
  });

  it("multi endpoints need image_urls, items may be binary", () => {
    c.run("fal-ai/flux-pro/kontext/max/multi", { prompt: "a", image_urls: ["https://x", new ArrayBuffer(1)] });
    // @ts-expect-error image_urls, not image_url
    c.run("fal-ai/flux-pro/kontext/multi", { prompt: "a", image_url: "https://x" });
    expectTypeOf<KontextInput<"fal-ai/flux-pro/kontext/multi">["image_urls"]>().toEqualTypeOf<
      Array<string | Blob | Uint8Array | ArrayBuffer>
    >();
  });

  it("unknown endpoint ids are rejected", () => {
    // @ts-expect-error not a Kontext endpoint
    c.status("fal-ai/flux/dev", "r");
    expectTypeOf<"fal-ai/flux-pro/kontext/max">().toExtend<EndpointId>();
  });

  it("outputs are typed per endpoint", async () => {
    const r = await c.subscribe("fal-ai/flux-pro/kontext/max", { prompt: "a", image_url: "u" });
    expectTypeOf(r).toEqualTypeOf<KontextResult<"fal-ai/flux-pro/kontext/max">>();
    expectTypeOf(r.data).toEqualTypeOf<KontextOutput>();
    expectTypeOf(r.data.images[0]!).toEqualTypeOf<KontextImage>();
    expectTypeOf(r.data.images[0]!.url).toEqualTypeOf<string>();
    expectTypeOf(r.data.images[0]!.width).toEqualTypeOf<number | null | undefined>();
    expectTypeOf(r.requestId).toEqualTypeOf<string>();
    const t = await c.run("fal-ai/flux-pro/kontext/text-to-image", { prompt: "a" });
    expectTypeOf(t.data.has_nsfw_concepts).toEqualTypeOf<boolean[]>();
  });

  it("lifecycle returns the schema's shapes", () => {
    expectTypeOf(c.submit("fal-ai/flux-pro/kontext", { prompt: "a", image_url: "u" })).resolves.toEqualTypeOf<SubmitResult>();
    expectTypeOf(c.status("fal-ai/flux-pro/kontext", "r")).resolves.toEqualTypeOf<QueueStatus>();
    expectTypeOf(c.streamStatus("fal-ai/flux-pro/kontext", "r")).toEqualTypeOf<AsyncIterable<QueueStatus>>();
    expectTypeOf(c.cancel("fal-ai/flux-pro/kontext", "r")).resolves.toEqualTypeOf<CancelResponse>();
    const s = {} as QueueStatus;
    if (s.status === "IN_QUEUE") expectTypeOf(s.queue_position).toEqualTypeOf<number>();
  });

  it("the raw client is typed over the spec's paths; the lifecycle clients carry none", async () => {
    const raw = createKontextRawClient();
    const { data } = await raw.GET("/fal-ai/flux-pro/requests/{request_id}", { params: { path: { request_id: "r" } } });
    expectTypeOf(data).toEqualTypeOf<KontextOutput | undefined>();
    // @ts-expect-error not a path of the spec
    raw.GET("/fal-ai/flux/dev");
    // @ts-expect-error openapi-fetch lives in createKontextRawClient, not on the client
    c.raw;
    // @ts-expect-error lite has no raw client
    createKontextClientLite().raw;
  });
});

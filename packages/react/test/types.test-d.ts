import type { KontextClient, KontextLiteClient, KontextResult } from "@kontext-sdk/client";
import type { EditInput, KontextOutput, MultiEditInput, OutputOf, TextToImageInput } from "@kontext-sdk/schema";
import { QueryClient } from "@tanstack/react-query";
import { describe, expectTypeOf, it } from "vitest";
import {
  KontextProvider,
  type KontextProviderProps,
  type KontextStatus,
  kontextQueryKeys,
  kontextQueryOptions,
  kontextStatusQueryOptions,
  type UseKontextResult,
  useKontext,
  useKontextClient,
  useKontextRequest,
} from "../src/index.js";

declare const client: KontextClient;
type Submitted<E extends Parameters<typeof useKontext>[0]> = Parameters<UseKontextResult<E>["submit"]>[0];

describe("endpoint inference", () => {
  it("infers the input from the endpoint id", () => {
    expectTypeOf<Submitted<"fal-ai/flux-pro/kontext/text-to-image">>().toExtend<TextToImageInput>();
    expectTypeOf<Submitted<"fal-ai/flux-pro/kontext/max">["image_url"]>().toExtend<
      EditInput["image_url"] | Blob | ArrayBuffer | Uint8Array
    >();
    expectTypeOf<Submitted<"fal-ai/flux-pro/kontext/max/multi">>().toHaveProperty("image_urls");

    const edit = useKontext("fal-ai/flux-pro/kontext/max");
    // @ts-expect-error an edit needs image_url
    edit.submit({ prompt: "make it snow" });
    edit.submit({ prompt: "make it snow", image_url: "https://example.com/a.png" });
    const multi = useKontext("fal-ai/flux-pro/kontext/max/multi");
    // @ts-expect-error a multi-image edit needs image_urls, not image_url
    multi.submit({ prompt: "merge", image_url: "https://example.com/a.png" });
    multi.submit({ prompt: "merge", image_urls: ["https://example.com/a.png"] });
    expectTypeOf<MultiEditInput["image_urls"]>().toEqualTypeOf<string[]>();
    // @ts-expect-error not a Kontext endpoint
    useKontext("fal-ai/flux/dev");
    const t2i = useKontext("fal-ai/flux-pro/kontext/text-to-image");
    // @ts-expect-error aspect_ratio is an enum
    t2i.submit({ prompt: "x", aspect_ratio: "5:4" });
  });

  it("narrows data by status and types the output", () => {
    const k = useKontext("fal-ai/flux-pro/kontext/text-to-image");
    expectTypeOf(k.status).toEqualTypeOf<KontextStatus>();
    expectTypeOf(k.data).toEqualTypeOf<OutputOf<"fal-ai/flux-pro/kontext/text-to-image"> | undefined>();
    if (k.status === "COMPLETED") {
      expectTypeOf(k.data).toEqualTypeOf<OutputOf<"fal-ai/flux-pro/kontext/text-to-image">>();
      expectTypeOf(k.data.images[0]!.url).toBeString();
    }
    if (k.status === "error") expectTypeOf(k.error).toEqualTypeOf<Error>();
    expectTypeOf(k.submitAsync).returns.resolves.toEqualTypeOf<KontextResult<"fal-ai/flux-pro/kontext/text-to-image">>();
    expectTypeOf<OutputOf<"fal-ai/flux-pro/kontext/max">>().toEqualTypeOf<KontextOutput>();
  });

  it("types the options' callbacks by endpoint", () => {
    useKontext("fal-ai/flux-pro/kontext/max/multi", {
      client,
      logs: false,
      mode: "poll",
      cancelOnUnmount: true,
      onEnqueue: (requestId) => expectTypeOf(requestId).toBeString(),
      onSuccess: (result, input) => {
        expectTypeOf(result).toEqualTypeOf<KontextResult<"fal-ai/flux-pro/kontext/max/multi">>();
        expectTypeOf(input.image_urls).toBeArray();
      },
    });
    // @ts-expect-error mutationFn belongs to the hook
    useKontext("fal-ai/flux-pro/kontext", { mutationFn: async () => undefined });
  });

  it("types resumed requests and cached results", () => {
    const r = useKontextRequest("fal-ai/flux-pro/kontext/max/multi", "id");
    expectTypeOf(r.data).toEqualTypeOf<OutputOf<"fal-ai/flux-pro/kontext/max/multi"> | undefined>();
    const options = kontextQueryOptions(client, "fal-ai/flux-pro/kontext", "id");
    const cached = new QueryClient().getQueryData(options.queryKey);
    expectTypeOf(cached).toEqualTypeOf<KontextResult<"fal-ai/flux-pro/kontext"> | undefined>();
    expectTypeOf(kontextQueryKeys.result("fal-ai/flux-pro/kontext", "id")).toEqualTypeOf<
      readonly ["kontext", "fal-ai/flux-pro/kontext", "request", string, "result"]
    >();
  });
});

describe("the lite client", () => {
  it("is accepted wherever a client is, and the full client still is", () => {
    const lite = null as unknown as KontextLiteClient;
    expectTypeOf<KontextProviderProps["client"]>().toEqualTypeOf<KontextLiteClient>();
    expectTypeOf<KontextClient>().toExtend<KontextProviderProps["client"]>();
    KontextProvider({ client: lite });
    KontextProvider({ client });
    expectTypeOf(useKontextClient(lite)).toEqualTypeOf<KontextLiteClient>();
    useKontext("fal-ai/flux-pro/kontext/max", { client: lite });
    useKontextRequest("fal-ai/flux-pro/kontext/max", "r", { client: lite });
    kontextQueryOptions(lite, "fal-ai/flux-pro/kontext/max", "r");
    kontextStatusQueryOptions(lite, "fal-ai/flux-pro/kontext/max", "r");
    // @ts-expect-error something that is not a client
    KontextProvider({ client: { subscribe: () => Promise.resolve() } });
  });
});

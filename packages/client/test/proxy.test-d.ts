import { describe, expectTypeOf, it } from "vitest";
import {
  type AuthorizeRequest,
  createKontextProxy,
  type KontextProxyOptions,
  type NodeHandler,
  toNodeHandler,
  toRouteHandlers,
} from "../src/proxy.js";

describe("proxy types", () => {
  it("is a web-standard handler", () => {
    expectTypeOf(createKontextProxy()).toEqualTypeOf<(request: Request) => Promise<Response>>();
    expectTypeOf(toNodeHandler(createKontextProxy())).toEqualTypeOf<NodeHandler>();
    expectTypeOf(toRouteHandlers(createKontextProxy()).PUT).toEqualTypeOf<(request: Request) => Promise<Response>>();
  });

  it("allows only the spec's endpoint ids", () => {
    expectTypeOf<{ allow: ["fal-ai/flux-pro/kontext/max"] }>().toMatchTypeOf<KontextProxyOptions>();
    // @ts-expect-error not a Kontext endpoint
    createKontextProxy({ allow: ["fal-ai/flux/dev"] });
  });

  it("lets authorize answer with a boolean or a Response, sync or async", () => {
    expectTypeOf<() => boolean>().toMatchTypeOf<AuthorizeRequest>();
    expectTypeOf<() => Promise<Response>>().toMatchTypeOf<AuthorizeRequest>();
    // @ts-expect-error a string is not a verdict
    createKontextProxy({ authorize: () => "yes" });
  });
});

import type { KontextOutput, QueueStatus } from "@kontext-sdk/schema";
import type { HttpHandler } from "msw";
import { describe, expectTypeOf, it } from "vitest";
import { outputs, queueStatuses } from "../src/fixtures.js";
import { createKontextMock, createManualClock, type FaultRule, type KontextMock, type MockJob } from "../src/index.js";
import { kontextHandlers } from "../src/msw.js";
import { type MockServer, startMockServer } from "../src/server.js";

describe("public types", () => {
  it("the mock is a web handler with properties", () => {
    const mock = createKontextMock({ clock: createManualClock() });
    expectTypeOf(mock).toMatchTypeOf<(request: Request) => Promise<Response>>();
    expectTypeOf(mock.handler).toMatchTypeOf<(request: Request) => Promise<Response>>();
    expectTypeOf(mock.fetch).toEqualTypeOf<typeof fetch>();
    expectTypeOf(mock.jobs).toMatchTypeOf<ReadonlyMap<string, MockJob>>();
    expectTypeOf(mock.reset).toEqualTypeOf<() => void>();
  });

  it("fault rules are a checked union", () => {
    expectTypeOf<{ kind: "status"; status: 429; retryAfter: 2; times: 1 }>().toMatchTypeOf<FaultRule>();
    expectTypeOf<{ kind: "latency"; ms: 50; operation: "status" }>().toMatchTypeOf<FaultRule>();
    expectTypeOf<{ kind: "fail-at-result"; status: 500 }>().toMatchTypeOf<FaultRule>();
    expectTypeOf<{ kind: "fail-at-result"; status: 418 }>().not.toMatchTypeOf<FaultRule>();
    expectTypeOf<{ kind: "explode" }>().not.toMatchTypeOf<FaultRule>();
    expectTypeOf<{ kind: "latency" }>().not.toMatchTypeOf<FaultRule>();
  });

  it("adapters and fixtures are typed", () => {
    expectTypeOf(kontextHandlers).returns.toEqualTypeOf<HttpHandler[]>();
    expectTypeOf(kontextHandlers)
      .parameter(0)
      .toEqualTypeOf<KontextMock | import("../src/index.js").KontextMockOptions | undefined>();
    expectTypeOf(startMockServer).returns.resolves.toEqualTypeOf<MockServer>();
    expectTypeOf(queueStatuses.inQueue).toMatchTypeOf<QueueStatus>();
    expectTypeOf(outputs.textToImage).toMatchTypeOf<KontextOutput>();
  });
});

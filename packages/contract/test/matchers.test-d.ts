import { describe, expectTypeOf, it } from "vitest";
import type { KontextMatchers, OperationId } from "../src/index.js";

describe("matcher types", () => {
  it("takes a spec operation id and an optional status", () => {
    expectTypeOf<KontextMatchers<void>["toMatchKontextSpec"]>().parameters.toEqualTypeOf<[OperationId, (number | undefined)?]>();
    expectTypeOf<"getStatus">().toMatchTypeOf<OperationId>();
    expectTypeOf<"runMaxMultiEdit">().toMatchTypeOf<OperationId>();
    expectTypeOf<"receiveWebhook">().not.toMatchTypeOf<OperationId>();
    expectTypeOf<"getStatuss">().not.toMatchTypeOf<OperationId>();
  });
});

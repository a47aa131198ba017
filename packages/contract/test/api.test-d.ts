import type { EndpointId } from "@kontext-sdk/schema";
import { describe, expectTypeOf, it } from "vitest";
import type { Check, ContractOptions, ContractReport, OperationId, Violation } from "../src/index.js";
import { formatReport, runContract, toJUnit, validateResponse } from "../src/index.js";

describe("public API types", () => {
  it("runContract takes typed options and returns a report", () => {
    expectTypeOf(runContract).parameter(0).toEqualTypeOf<ContractOptions | undefined>();
    expectTypeOf(runContract).returns.resolves.toEqualTypeOf<ContractReport>();
    expectTypeOf<ContractOptions["endpoints"]>().toEqualTypeOf<readonly EndpointId[] | undefined>();
    expectTypeOf<ContractOptions["authScheme"]>().toEqualTypeOf<"Key" | "Bearer" | undefined>();
    // @ts-expect-error an unknown endpoint id is a type error
    runContract({ endpoints: ["fal-ai/flux-pro/kontext/nope"] });
  });

  it("report pieces", () => {
    expectTypeOf<ContractReport["checks"]>().toEqualTypeOf<Check[]>();
    expectTypeOf<Check["violations"]>().toEqualTypeOf<Violation[]>();
    expectTypeOf(formatReport).returns.toBeString();
    expectTypeOf(toJUnit).returns.toBeString();
  });

  it("validateResponse only takes spec operation ids", () => {
    expectTypeOf(validateResponse).parameter(0).toEqualTypeOf<OperationId>();
    expectTypeOf(validateResponse).returns.toEqualTypeOf<Violation[]>();
    // @ts-expect-error not an operation of the spec
    validateResponse("getStatuses", 200, {});
  });
});

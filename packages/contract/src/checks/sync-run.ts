/** One synchronous run on the sync host (only when `syncBaseUrl` is given; it costs one image). */
import { endpoints as registry } from "@kontext-sdk/schema";
import { type RunContext, skipped, timed } from "../run/context.js";
import { inputFor } from "../run/inputs.js";
import type { OperationId } from "../spec-operations.js";
import { checkOutput } from "./result.js";
import { submit } from "./submit.js";

export async function runSync(context: RunContext, affordable: boolean, overBudget: string): Promise<void> {
  const { probe, syncBaseUrl } = context;
  // Not part of the run; nothing to report.
  if (syncBaseUrl === undefined) return;
  if (context.skip.has("sync run")) return skipped(context, "sync run", probe, "skipped by option");
  if (!affordable) return skipped(context, "sync run", probe, overBudget);
  await timed(context, "sync run", probe, async (recorder) => {
    const input = inputFor(context, probe, "contract check: a small blue square");
    const operationId = registry[probe].syncOperationId as OperationId;
    const exchange = await submit(context, recorder, probe, input, { host: "sync" });
    if (!exchange.failed) checkOutput(recorder, operationId, exchange, input);
  });
}

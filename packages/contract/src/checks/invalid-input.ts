/** An input the spec refuses (no `prompt`): fal's 422 `{detail:[{loc,msg,type}]}`. */
import { endpoints as registry, validateInput } from "@kontext-sdk/schema";
import { KontextContractError } from "../errors.js";
import { newRecorder, queueUrl, type RunContext, skipped, timed } from "../run/context.js";
import { send } from "../run/http.js";
import { inputFor } from "../run/inputs.js";
import { requestIdOf, submit } from "./submit.js";

export async function runInvalidInput(context: RunContext, affordable: boolean, overBudget: string): Promise<void> {
  const { probe } = context;
  if (context.skip.has("invalid input")) return skipped(context, "invalid input", undefined, "skipped by option");
  if (!affordable) return skipped(context, "invalid input", undefined, overBudget);
  await timed(context, "invalid input", probe, async (recorder) => {
    // Everything valid except the required prompt, so no conforming server can start a job.
    const { prompt: _dropped, ...input } = inputFor(context, probe, "unused");
    if (validateInput(probe, input).ok) throw new KontextContractError("the invalid input unexpectedly passed the spec's schema");
    const exchange = await submit(context, recorder, probe, input, { expectValid: false });
    if (exchange.failed) return;
    if (exchange.status !== 422) {
      recorder.violations.push({
        operationId: registry[probe].operationId,
        status: exchange.status,
        rule: "invalid-input-not-422",
        path: "$",
        message: `an input without the required prompt was answered ${exchange.status}; fal answers 422 {detail:[{loc,msg,type}]}`,
      });
    }
    // A server that queued it anyway: do not let the stray job run.
    const stray = requestIdOf(exchange.body);
    if (exchange.status < 300 && stray !== undefined) {
      await send(context, newRecorder(), "cancelRequest", "PUT", queueUrl(context, probe, stray, "cancel")).catch(() => {});
    }
  });
}

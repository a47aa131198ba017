/**
 * An input the spec refuses (no `prompt`). fal's queue accepts any JSON body at submit; the model
 * validates it, the job ends COMPLETED (maybe with `error`/`error_type` on the status) and the 422
 * `{detail:[…]}` comes from the result call (fal's queue docs; TanStack/ai PR #396). Gateways may
 * validate earlier and answer the 422 at submit. Both timings pass; the report notes which one it saw.
 */
import { type EndpointId, endpoints as registry, validateInput } from "@kontext-sdk/schema";
import { describeErrorBody, isErrorBody, issuesFromDetail } from "@kontext-sdk/schema/protocol";
import { KontextContractError } from "../errors.js";
import { queueUrl, type Recorder, type RunContext, skipped, timed } from "../run/context.js";
import { type Exchange, send } from "../run/http.js";
import { inputFor } from "../run/inputs.js";
import { pollToCompletion } from "./status.js";
import { answerText, requestIdOf, submit } from "./submit.js";

const FAL_422 = "fal answers 422 {detail:[{loc,msg,type}]}, at submit or (as fal's queue does) from the result";

function noteRefusal(recorder: Recorder, where: string, exchange: Exchange): void {
  const said = isErrorBody(exchange.body) ? `: ${describeErrorBody(exchange.body, 120)}` : "";
  recorder.notes.push(`validated ${where} (422)${said}`);
  // Which fields the refusal names is worth a line, not a verdict: fal does not promise the wording.
  const fields = isErrorBody(exchange.body) ? issuesFromDetail(exchange.body.detail).map((issue) => issue.field) : [];
  if (fields.some(Boolean) && !fields.includes("prompt")) recorder.notes.push(`the 422 names ${fields.join(", ")}, not prompt`);
}

/** The job was accepted: follow it to COMPLETED, then the result must be the 422. */
async function refusedAtResult(context: RunContext, recorder: Recorder, endpoint: EndpointId, requestId: string): Promise<void> {
  const polled = await pollToCompletion(context, recorder, endpoint, requestId, undefined);
  if (polled.completed === undefined) return; // not-completed (or a broken status) is already reported
  const { error, error_type: errorType } = (polled.completed ?? {}) as { error?: unknown; error_type?: unknown };
  if (error != null) recorder.notes.push(`the COMPLETED status carries error_type ${String(errorType)}: ${String(error)}`);
  const result = await send(context, recorder, "getResult", "GET", queueUrl(context, endpoint, requestId, "result"));
  if (result.failed) return;
  if (result.status === 422) return noteRefusal(recorder, "at the result: accepted at submit, COMPLETED, then", result);
  recorder.violations.push({
    operationId: "getResult",
    status: result.status,
    rule: "invalid-input-not-422",
    path: "$",
    message:
      result.status === 200
        ? `an input without the required prompt was accepted and produced an output; ${FAL_422}`
        : `an input without the required prompt was accepted, then its result answered ${result.status}: ${answerText(result)}; ${FAL_422}`,
  });
}

export async function runInvalidInput(context: RunContext, affordable: boolean, overBudget: string): Promise<void> {
  const { probe } = context;
  if (context.skip.has("invalid input")) return skipped(context, "invalid input", undefined, "skipped by option");
  if (!affordable) return skipped(context, "invalid input", undefined, overBudget);
  await timed(context, "invalid input", probe, async (recorder) => {
    // Everything valid except the required prompt, so no conforming model can run it.
    const { prompt: _dropped, ...input } = inputFor(context, probe, "unused");
    if (validateInput(probe, input).ok) throw new KontextContractError("the invalid input unexpectedly passed the spec's schema");
    const exchange = await submit(context, recorder, probe, input, { expectValid: false });
    if (exchange.failed) return;
    if (exchange.status === 422) return noteRefusal(recorder, "at submit", exchange);
    const requestId = exchange.status < 300 ? requestIdOf(exchange.body) : undefined;
    if (requestId !== undefined) return refusedAtResult(context, recorder, probe, requestId);
    recorder.violations.push({
      operationId: registry[probe].operationId,
      status: exchange.status,
      rule: "invalid-input-not-422",
      path: "$",
      message: `an input without the required prompt was answered ${exchange.status}: ${answerText(exchange)}; ${FAL_422}`,
    });
  });
}

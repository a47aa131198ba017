/** A second job, cancelled at once: the cancel must be answered as documented, on owner/app. */
import { requestPath } from "@kontext-sdk/schema/protocol";
import { queueUrl, type RunContext, skipped, timed } from "../run/context.js";
import { send } from "../run/http.js";
import { inputFor } from "../run/inputs.js";
import { acceptedSubmit } from "./submit.js";

export async function runCancel(context: RunContext, affordable: boolean, overBudget: string): Promise<void> {
  const { probe } = context;
  if (context.skip.has("cancel")) return skipped(context, "cancel", undefined, "skipped by option");
  if (context.endpoints.length === 0) return skipped(context, "cancel", undefined, "skipped: no endpoint chosen");
  if (!affordable) return skipped(context, "cancel", probe, overBudget);
  await timed(context, "cancel", probe, async (recorder) => {
    const requestId = await acceptedSubmit(context, recorder, probe, inputFor(context, probe, "contract check: a job to cancel"));
    if (!requestId) return;
    const cancelled = await send(context, recorder, "cancelRequest", "PUT", queueUrl(context, probe, requestId, "cancel"));
    if (cancelled.failed) return;
    const state = (cancelled.body as { status?: unknown } | null)?.status;
    recorder.notes.push(`cancel answered ${cancelled.status} ${String(state)}`);
    if (cancelled.status === 404) {
      recorder.violations.push({
        operationId: "cancelRequest",
        status: 404,
        rule: "owner-app-path",
        path: "$",
        message: `cancel on ${requestPath(probe, requestId, "cancel")} answered 404 for a request just submitted`,
      });
    }
  });
}

/**
 * One job per endpoint, walked the way a client does: submit, the result too early, status without
 * and with logs, the status stream, polling to completion, then the result. Each step is its own
 * check in the report; a step that cannot run (no request id, never completed) is skipped with why.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import { FAL_HEADERS, isFinished, requestPath } from "@kontext-sdk/schema/protocol";
import { newRecorder, queueUrl, type Recorder, type RunContext, skipped, timed } from "../run/context.js";
import { send } from "../run/http.js";
import { inputFor, type JobInput } from "../run/inputs.js";
import { JOB_CHECKS } from "../run/types.js";
import { checkOutput } from "./result.js";
import { pollToCompletion, stateOf, statusOnce } from "./status.js";
import { readStream } from "./stream.js";
import { acceptedSubmit } from "./submit.js";

/** What the job's checks learn as they go. */
interface JobState {
  endpoint: EndpointId;
  requestId: string;
  input: JobInput;
  /** The furthest state seen so far (status only moves forward). */
  last?: string;
}

/** A 200 before COMPLETED is the breakage; a 404 means the server does not serve owner/app. */
async function resultBeforeCompletion(context: RunContext, recorder: Recorder, job: JobState): Promise<void> {
  const exchange = await send(context, recorder, "getResult", "GET", queueUrl(context, job.endpoint, job.requestId, "result"));
  if (exchange.failed) return;
  if (exchange.status === 404) {
    recorder.violations.push({
      operationId: "getResult",
      status: 404,
      rule: "owner-app-path",
      path: "$",
      message: `result on ${requestPath(job.endpoint, job.requestId)} answered 404 for a request just submitted`,
    });
  }
  if (exchange.status !== 200) return;
  // A 200 here is only wrong if the job really was not done: ask the status right after.
  const state = stateOf(await statusOnce(context, newRecorder(), job.endpoint, job.requestId, 0));
  if (isFinished(state)) {
    recorder.notes.push("the job completed before its first status call; nothing to judge");
    return;
  }
  recorder.violations.push({
    operationId: "getResult",
    status: 200,
    rule: "result-before-completed",
    path: "$",
    message: `the result was served while the status was ${state ?? "unknown"}; fal answers 400 until COMPLETED`,
  });
}

async function followJob(context: RunContext, job: JobState): Promise<void> {
  const { endpoint, requestId } = job;
  await timed(context, "result before completion", endpoint, (recorder) => resultBeforeCompletion(context, recorder, job));
  await timed(context, "status without logs", endpoint, async (recorder) => {
    job.last = stateOf(await statusOnce(context, recorder, endpoint, requestId, 0, job.last)) ?? job.last;
  });
  await timed(context, "status with logs", endpoint, async (recorder) => {
    job.last = stateOf(await statusOnce(context, recorder, endpoint, requestId, 1, job.last)) ?? job.last;
  });
  await timed(context, "status stream", endpoint, async (recorder) => {
    job.last = (await readStream(context, recorder, endpoint, requestId, job.last)).last ?? job.last;
  });
  await timed(context, "poll to completion", endpoint, async (recorder) => {
    const outcome = await pollToCompletion(context, recorder, endpoint, requestId, job.last);
    job.last = outcome.last;
    recorder.notes.push(`${outcome.polls} status call${outcome.polls === 1 ? "" : "s"}`);
  });
  if (!isFinished(job.last)) {
    skipped(context, "result", endpoint, "skipped: the job never reached COMPLETED");
    return;
  }
  await timed(context, "result", endpoint, async (recorder) => {
    const exchange = await send(context, recorder, "getResult", "GET", queueUrl(context, endpoint, requestId, "result"));
    if (exchange.failed) return;
    checkOutput(recorder, "getResult", exchange, job.input);
    // A client that reports this header instead of the id it asked about would report another job.
    const echoed = exchange.headers.get(FAL_HEADERS.requestId);
    if (echoed && echoed !== requestId)
      recorder.notes.push(`the result's ${FAL_HEADERS.requestId} is ${echoed}, not ${requestId}`);
  });
}

/** The whole job of one endpoint; `affordable` is false when the image budget leaves it out. */
export async function runJob(context: RunContext, endpoint: EndpointId, affordable: boolean, overBudget: string): Promise<void> {
  if (!affordable) {
    for (const name of JOB_CHECKS) skipped(context, name, endpoint, overBudget);
    return;
  }
  const input = inputFor(context, endpoint, "contract check: a small red square");
  let requestId: string | undefined;
  await timed(context, "submit", endpoint, async (recorder) => {
    requestId = await acceptedSubmit(context, recorder, endpoint, input);
    if (requestId) recorder.notes.push(`request ${requestId}`);
  });
  if (requestId === undefined) {
    for (const name of JOB_CHECKS.slice(1)) skipped(context, name, endpoint, "skipped: submit gave no request id");
    return;
  }
  await followJob(context, { endpoint, requestId, input });
}

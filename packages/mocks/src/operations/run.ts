/** A sync run (`fal.run`): the job runs at once and the answer is its result, a refused input included. */
import type { EndpointId } from "@kontext-sdk/schema";
import { jsonResponse } from "@kontext-sdk/schema/protocol";
import { resultOf } from "../answers.js";
import type { MockState, RequestScope } from "../context.js";
import { faultAtResult } from "../failures.js";
import { readInput, refusedInput } from "./input.js";

export function run(state: MockState, scope: RequestScope, endpoint: EndpointId): Response {
  const read = readInput(endpoint, scope.body);
  if (!read.ok) return read.response;
  // The run's answer is the model's: a refused input is its 422, whatever `validateAt` says.
  if (!read.valid) return refusedInput(read.issues);
  const job = state.store.add({
    endpoint,
    input: read.input,
    submittedAt: state.clock.now(),
    timeline: state.timeline,
    clock: state.clock,
    base: scope.origin,
    webhookUrl: undefined,
    sync: true,
  });
  const failAt = scope.hits.find((fault) => fault.kind === "fail-at-result");
  if (failAt?.kind === "fail-at-result") job.failure = faultAtResult(failAt, endpoint);
  const result = resultOf(job, scope.origin);
  return jsonResponse(result.status, result.body, result.headers);
}

/**
 * A run without credentials: one free status call first. A server that answers 401/403 needs a key,
 * and every later call would fail the same way; one failure that says "pass a key" reads better than
 * nine 401s, so the rest of the run is skipped.
 */
import { describeErrorBody } from "@kontext-sdk/schema/protocol";
import { newRecorder, queueUrl, type RunContext, timed } from "../run/context.js";
import { send } from "../run/http.js";

/** Runs the probe; returns the reason to skip everything else when the server wants a key. */
export async function runCredentials(context: RunContext): Promise<string | undefined> {
  let refusedWith: number | undefined;
  await timed(context, "credentials", undefined, async (recorder) => {
    const url = queueUrl(context, context.probe, globalThis.crypto.randomUUID(), "status", "?logs=0");
    // The answer's shape is the unknown-id check's business; here only its code matters.
    const exchange = await send(context, newRecorder(), "getStatus", "GET", url);
    if (exchange.status !== 401 && exchange.status !== 403) {
      if (!exchange.failed) recorder.notes.push(`the server answers without credentials (HTTP ${exchange.status})`);
      return;
    }
    refusedWith = exchange.status;
    const said = describeErrorBody(exchange.body, 120);
    recorder.violations.push({
      operationId: "getStatus",
      status: exchange.status,
      rule: "credentials-required",
      path: "$",
      message:
        `the server answered ${exchange.status}${said ? ` (${said})` : ""} to a call without credentials: ` +
        "pass --key (`credentials` in runContract), with --auth-scheme Bearer for a gateway that wants a bearer token",
    });
  });
  return refusedWith === undefined ? undefined : `skipped: the server answered ${refusedWith} without credentials`;
}

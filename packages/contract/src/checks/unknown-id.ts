/** A random request id: status, result and cancel must each answer 404 in a documented shape. */

import type { RequestOperation } from "@kontext-sdk/schema/protocol";
import { queueUrl, type RunContext, skipped, timed } from "../run/context.js";
import { send } from "../run/http.js";
import type { OperationId } from "../spec-operations.js";

const ASKED: [OperationId, string, RequestOperation, string][] = [
  ["getStatus", "GET", "status", "?logs=0"],
  ["getResult", "GET", "result", ""],
  ["cancelRequest", "PUT", "cancel", ""],
];

export async function runUnknownId(context: RunContext): Promise<void> {
  if (context.skip.has("unknown request id")) return skipped(context, "unknown request id", undefined, "skipped by option");
  await timed(context, "unknown request id", undefined, async (recorder) => {
    const requestId = globalThis.crypto.randomUUID();
    for (const [operationId, method, operation, query] of ASKED) {
      const exchange = await send(
        context,
        recorder,
        operationId,
        method,
        queueUrl(context, context.probe, requestId, operation, query),
      );
      if (exchange.failed || exchange.status === 404) continue;
      recorder.violations.push({
        operationId,
        status: exchange.status,
        rule: "unknown-id-not-404",
        path: "$",
        message: `${method} for an unknown request id answered ${exchange.status}, not 404`,
      });
    }
  });
}

/**
 * A random request id: status and result answer fal's flat 404 `{detail}`. Cancel's codes are not
 * documented by fal (only its body statuses are), so a cancel is accepted as a 404 in either body
 * shape, or as any documented code whose body says `NOT_FOUND`.
 */
import type { RequestOperation } from "@kontext-sdk/schema/protocol";
import { queueUrl, type RunContext, skipped, timed } from "../run/context.js";
import { type Exchange, send } from "../run/http.js";
import type { OperationId } from "../spec-operations.js";

const ASKED: [OperationId, string, RequestOperation, string][] = [
  ["getStatus", "GET", "status", "?logs=0"],
  ["getResult", "GET", "result", ""],
  ["cancelRequest", "PUT", "cancel", ""],
];

function saysNotFound(operationId: OperationId, exchange: Exchange): boolean {
  if (exchange.status === 404) return true;
  return operationId === "cancelRequest" && (exchange.body as { status?: unknown } | null)?.status === "NOT_FOUND";
}

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
      if (exchange.failed || saysNotFound(operationId, exchange)) continue;
      recorder.violations.push({
        operationId,
        status: exchange.status,
        rule: "unknown-id-not-404",
        path: "$",
        message: `${method} for an unknown request id answered ${exchange.status}, not 404${operationId === "cancelRequest" ? " or NOT_FOUND" : ""}`,
      });
    }
  });
}

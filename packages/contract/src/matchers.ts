/**
 * `toMatchKontextSpec` for vitest and jest (`expect.extend(kontextMatchers)`). Written against the
 * small matcher protocol both share ({ pass, message }), so neither is a dependency.
 */
import { documentedResponse, type OperationId, specOperations } from "./spec-operations.js";
import { type Violation, validateResponse } from "./validate-response.js";

/** Add these to your test runner's `Matchers` interface (see the README for the two-line recipe). */
export interface KontextMatchers<R = unknown> {
  /**
   * The received value is a parsed body (checked against `status`, or against any of the
   * operation's 2xx answers when `status` is left out), or a fetch `Response` (status and
   * content type read from it; await the assertion).
   */
  toMatchKontextSpec(operationId: OperationId, status?: number): R;
}

interface MatcherContext {
  isNot?: boolean;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function toMatchKontextSpec(
  this: MatcherContext | undefined,
  received: unknown,
  operationId: OperationId,
  status?: number,
): MatcherResult | Promise<MatcherResult> {
  if (typeof Response !== "undefined" && received instanceof Response) {
    return readResponse(received).then(({ body, headers }) =>
      result(operationId, status ?? received.status, validateResponse(operationId, status ?? received.status, body, headers)),
    );
  }
  if (status !== undefined) return result(operationId, status, validateResponse(operationId, status, received));
  // No status: the body must fit one of the success answers (getStatus has two, 200 and 202).
  const op = specOperations.get(operationId);
  const successes = op
    ? Object.keys(op.responses)
        .filter((code) => /^2\d\d$/.test(code))
        .map(Number)
        .filter((code) => documentedResponse(op, code))
    : [];
  if (successes.length === 0) return result(operationId, undefined, validateResponse(operationId, 200, received));
  const attempts = successes.map((code) => ({ code, violations: validateResponse(operationId, code, received) }));
  const match = attempts.find((a) => a.violations.length === 0);
  return result(operationId, match?.code ?? attempts[0]!.code, match ? [] : attempts[0]!.violations);
}

async function readResponse(response: Response): Promise<{ body: unknown; headers: Headers }> {
  const text = await response.clone().text();
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("event-stream")) return { body: text, headers: response.headers };
  try {
    return { body: text === "" ? undefined : JSON.parse(text), headers: response.headers };
  } catch {
    return { body: text, headers: response.headers };
  }
}

function result(operationId: string, status: number | undefined, violations: Violation[]): MatcherResult {
  const label = status === undefined ? operationId : `${operationId} (HTTP ${status})`;
  return {
    pass: violations.length === 0,
    message: () =>
      violations.length === 0
        ? `expected the answer not to match ${label} of the Kontext spec, but it does`
        : `expected the answer to match ${label} of the Kontext spec:\n${formatViolations(violations)}`,
  };
}

/** Indented lines `rule at path: message`, shared with the report formatter. */
export function formatViolations(violations: readonly Violation[], indent = "  "): string {
  return violations.map((v) => `${indent}${v.rule} at ${v.path}: ${v.message}`).join("\n");
}

/** Pass to `expect.extend(...)`. */
export const kontextMatchers = { toMatchKontextSpec };

/** The input of a submit or a sync run, read from the body: the value, or the answer refusing it. */
import type { EndpointId, ValidationIssue } from "@kontext-sdk/schema";
import { validateInput } from "@kontext-sdk/schema";
import { FAL_HEADERS, unreadableBodyResponse, validationErrorResponse } from "@kontext-sdk/schema/protocol";
import type { ParsedBody } from "../body.js";
import { toHttpValidationError } from "../validation.js";

export type InputRead =
  | { ok: true; valid: true; input: Record<string, unknown> }
  | { ok: true; valid: false; input: Record<string, unknown>; issues: readonly ValidationIssue[] }
  | { ok: false; response: Response };

/**
 * Unreadable JSON and a missing body are refused at once (fal's gateway cannot even queue them);
 * JSON that breaks the endpoint's schema is read with its issues, for the caller to refuse or queue.
 */
export function readInput(endpoint: EndpointId, body: ParsedBody): InputRead {
  if (!body.ok) return { ok: false, response: unreadableBodyResponse(body) };
  if (body.value === undefined) {
    return { ok: false, response: validationErrorResponse([{ loc: ["body"], msg: "Field required", type: "missing" }]) };
  }
  const checked = validateInput<Record<string, unknown>>(endpoint, body.value);
  if (checked.ok) return { ok: true, valid: true, input: checked.value };
  // A job keeps an object as its input; anything else (a list, a string) is refused by the model anyway.
  const input =
    typeof body.value === "object" && body.value !== null && !Array.isArray(body.value)
      ? (body.value as Record<string, unknown>)
      : {};
  return { ok: true, valid: false, input, issues: checked.issues };
}

/** The 422 a refused input gets when it is refused at once (validation at submit, and sync runs). */
export function refusedInput(issues: readonly ValidationIssue[]): Response {
  return validationErrorResponse(toHttpValidationError(issues).detail as never, { [FAL_HEADERS.errorType]: "validation_error" });
}

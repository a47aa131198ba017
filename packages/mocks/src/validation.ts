/**
 * Turns the schema package's validation issues into fal's 422 body. fal's models are
 * pydantic, so the error `type`s and messages follow pydantic v2's wording.
 */
import type { HTTPValidationError, ValidationIssue } from "@kontext-sdk/schema";

/** The generated type reads `ctx` as an empty object; pydantic puts the rule's limits there. */
interface ValidationErrorItem {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
  input?: unknown;
}

import { ASPECT_RATIOS, INPUT_RANGES, OUTPUT_FORMATS, SAFETY_TOLERANCES } from "@kontext-sdk/schema";

const ENUMS: Record<string, readonly string[]> = {
  aspect_ratio: ASPECT_RATIOS,
  output_format: OUTPUT_FORMATS,
  safety_tolerance: SAFETY_TOLERANCES,
};

const TYPES: Record<string, [type: string, msg: string]> = {
  string: ["string_type", "Input should be a valid string"],
  integer: ["int_type", "Input should be a valid integer"],
  number: ["float_type", "Input should be a valid number"],
  boolean: ["bool_type", "Input should be a valid boolean"],
  array: ["list_type", "Input should be a valid list"],
  object: ["model_attributes_type", "Input should be a valid dictionary or object to extract fields from"],
};

function loc(pointer: string): (string | number)[] {
  const parts = pointer
    ? pointer
        .slice(1)
        .split("/")
        .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    : [];
  return ["body", ...parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p))];
}

function item(issue: ValidationIssue): ValidationErrorItem {
  const where = loc(issue.path);
  const field = String(where[where.length - 1]);
  const withInput = (e: ValidationErrorItem): ValidationErrorItem =>
    issue.value === undefined ? e : { ...e, input: issue.value };
  const range = (INPUT_RANGES as Record<string, { minimum?: number; maximum?: number }>)[field];
  switch (issue.rule) {
    case "required":
      return { loc: where, msg: "Field required", type: "missing" };
    case "unevaluatedProperties":
    case "additionalProperties":
      return withInput({ loc: where, msg: "Extra inputs are not permitted", type: "extra_forbidden" });
    case "maximum": {
      const le = range?.maximum ?? Number(/at most (\S+)/.exec(issue.message)?.[1]);
      return withInput({ loc: where, msg: `Input should be less than or equal to ${le}`, type: "less_than_equal", ctx: { le } });
    }
    case "minimum": {
      const ge = range?.minimum ?? Number(/at least (\S+)/.exec(issue.message)?.[1]);
      return withInput({
        loc: where,
        msg: `Input should be greater than or equal to ${ge}`,
        type: "greater_than_equal",
        ctx: { ge },
      });
    }
    case "enum":
    case "const": {
      const values = ENUMS[field] ?? [];
      const expected = values
        .map((v) => `'${v}'`)
        .join(", ")
        .replace(/, ([^,]*)$/, " or $1");
      return withInput({ loc: where, msg: `Input should be ${expected}`, type: "literal_error", ctx: { expected } });
    }
    case "type": {
      const wanted = /must be an? (\w+)/.exec(issue.message)?.[1] ?? "string";
      const [type, msg] = TYPES[wanted] ?? ["type_error", `Input should be a valid ${wanted}`];
      return withInput({ loc: where, msg, type });
    }
    case "minLength":
      return withInput({
        loc: where,
        msg: "String should have at least 1 character",
        type: "string_too_short",
        ctx: { min_length: 1 },
      });
    case "minItems":
      return withInput({
        loc: where,
        msg: "List should have at least 1 item after validation, not 0",
        type: "too_short",
        ctx: { min_length: 1 },
      });
    case "pattern":
      return withInput({
        loc: where,
        msg: "Input should be an http(s) URL or a data:image/ URI",
        type: "string_pattern_mismatch",
        ctx: { pattern: "^(https?://|data:image/)" },
      });
    default:
      return withInput({ loc: where, msg: issue.message, type: "value_error" });
  }
}

export function toHttpValidationError(issues: readonly ValidationIssue[]): HTTPValidationError {
  return { detail: issues.map(item) } as HTTPValidationError;
}

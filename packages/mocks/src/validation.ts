/**
 * Turns the schema package's validation issues into fal's 422 body. fal's models are
 * pydantic, so the error `type`s and messages follow pydantic v2's wording.
 */
import type { HTTPValidationError, ValidationIssue } from "@kontext-sdk/schema";
import { ASPECT_RATIOS, INPUT_LIMITS, INPUT_RANGES, OUTPUT_FORMATS, SAFETY_TOLERANCES } from "@kontext-sdk/schema";
import { type ErrorDetailItem, pointerToLoc } from "@kontext-sdk/schema/protocol";

/** The generated type reads `ctx` as an empty object; pydantic puts the rule's limits there. */
type ValidationErrorItem = ErrorDetailItem;

/** The bounds the spec sets on lengths, by field, for the messages that name them. */
const MAX_LENGTHS: Record<string, number> = { prompt: INPUT_LIMITS.promptMaxLength, image_urls: INPUT_LIMITS.imageUrlsMaxItems };

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

/** A limit from the issue's message (`at most 10 items`), for fields the table above does not name. */
const limitIn = (message: string) => Number(/at (?:most|least) (\d+(?:\.\d+)?)/.exec(message)?.[1]);

type Loc = ValidationErrorItem["loc"];

/** One issue as pydantic v2 words it: `type`, message and `ctx` per JSON-schema rule, and the input echoed where fal does. */
function item(issue: ValidationIssue): ValidationErrorItem {
  const where = ["body", ...pointerToLoc(issue.path)];
  const field = String(where[where.length - 1]);
  switch (issue.rule) {
    case "required":
      return { loc: where, msg: "Field required", type: "missing" };
    case "maxLength":
    case "maxItems":
      return tooLongItem(issue, where, field);
    default:
      return withInput(issue, echoingItem(issue, where, field));
  }
}

const withInput = (issue: ValidationIssue, entry: ValidationErrorItem): ValidationErrorItem =>
  issue.value === undefined ? entry : { ...entry, input: issue.value };

/**
 * The rules whose item echoes the input back (`withInput`). One case per JSON-schema rule, each with
 * pydantic v2's type and wording: a flat table would hide the few rules that need the field's own bounds.
 */
function echoingItem(issue: ValidationIssue, where: Loc, field: string): ValidationErrorItem {
  switch (issue.rule) {
    case "unevaluatedProperties":
    case "additionalProperties":
      return { loc: where, msg: "Extra inputs are not permitted", type: "extra_forbidden" };
    case "maximum":
    case "minimum":
      return boundItem(issue, where, field);
    case "enum":
    case "const":
      return literalItem(where, field);
    case "type":
      return typeItem(issue, where);
    case "minLength":
      return {
        loc: where,
        msg: "String should have at least 1 character",
        type: "string_too_short",
        ctx: { min_length: 1 },
      };
    case "minItems":
      return {
        loc: where,
        msg: "List should have at least 1 item after validation, not 0",
        type: "too_short",
        ctx: { min_length: 1 },
      };
    case "pattern":
      return {
        loc: where,
        msg: "Input should be an http(s) URL or a data: URL",
        type: "string_pattern_mismatch",
        ctx: { pattern: "^(https?://|data:)" },
      };
    default:
      return { loc: where, msg: issue.message, type: "value_error" };
  }
}

/** `maximum` and `minimum`: the field's own bound from the spec, else the one the issue's message names. */
function boundItem(issue: ValidationIssue, where: Loc, field: string): ValidationErrorItem {
  const range = (INPUT_RANGES as Record<string, { minimum?: number; maximum?: number }>)[field];
  if (issue.rule === "maximum") {
    const le = range?.maximum ?? limitIn(issue.message);
    return { loc: where, msg: `Input should be less than or equal to ${le}`, type: "less_than_equal", ctx: { le } };
  }
  const ge = range?.minimum ?? limitIn(issue.message);
  return {
    loc: where,
    msg: `Input should be greater than or equal to ${ge}`,
    type: "greater_than_equal",
    ctx: { ge },
  };
}

/** `enum` and `const`: the allowed values, pydantic's way (`'a', 'b' or 'c'`). */
function literalItem(where: Loc, field: string): ValidationErrorItem {
  const values = ENUMS[field] ?? [];
  const expected = values
    .map((value) => `'${value}'`)
    .join(", ")
    .replace(/, ([^,]*)$/, " or $1");
  return { loc: where, msg: `Input should be ${expected}`, type: "literal_error", ctx: { expected } };
}

/** `type`: the JSON type the issue's message asks for, as pydantic's `*_type` error. */
function typeItem(issue: ValidationIssue, where: Loc): ValidationErrorItem {
  const wanted = /must be an? (\w+)/.exec(issue.message)?.[1] ?? "string";
  const [type, msg] = TYPES[wanted] ?? ["type_error", `Input should be a valid ${wanted}`];
  return { loc: where, msg, type };
}

/**
 * `maxLength` and `maxItems`, without the input: echoing a 19 MB prompt back would be the problem all
 * over again.
 */
function tooLongItem(issue: ValidationIssue, where: Loc, field: string): ValidationErrorItem {
  const max = MAX_LENGTHS[field] ?? limitIn(issue.message);
  if (issue.rule === "maxLength") {
    return {
      loc: where,
      msg: `String should have at most ${max} characters`,
      type: "string_too_long",
      ctx: { max_length: max },
    };
  }
  const count = Array.isArray(issue.value) ? issue.value.length : undefined;
  return {
    loc: where,
    msg: `List should have at most ${max} items after validation${count === undefined ? "" : `, not ${count}`}`,
    type: "too_long",
    ctx: { max_length: max, ...(count === undefined ? {} : { actual_length: count }) },
  };
}

export function toHttpValidationError(issues: readonly ValidationIssue[]): HTTPValidationError {
  return { detail: issues.map(item) } as HTTPValidationError;
}

import { endpoints } from "./generated/registry.js";
import {
  validateCancelRefusal,
  validateCancelResponse,
  validateCompletedStatus,
  validateEditInput,
  validateErrorBody,
  validateFlatError,
  validateHTTPValidationError,
  validateInitiateUploadResponse,
  validateInProgressStatus,
  validateInQueueStatus,
  validateKontextOutput,
  validateMultiEditInput,
  validateQueueStatus,
  validateSubmitResponse,
  validateTextToImageInput,
  validateUploadedPart,
  validateWebhookPayload,
} from "./generated/validators.js";
import type { CompiledValidator, CompiledValidatorError } from "./validator-types.js";

/** One problem found in a value: where, what was given, which rule it broke. */
export interface ValidationIssue {
  /** JSON pointer into the value, e.g. `/image_urls/0`. */
  path: string;
  /** Readable field name, e.g. `image_urls[0]`; empty for the value as a whole. */
  field: string;
  /** The value found at `path` (undefined when the field is missing). */
  value: unknown;
  /** The JSON-Schema keyword broken, e.g. `maximum`, `required`, `enum`. */
  rule: string;
  /** One line a person can act on, e.g. `num_images must be at most 4 (got 5)`. */
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

// Explicit imports and maps (not `import *` with a computed lookup) keep the validators
// tree-shakeable: a bundle that only checks inputs leaves the response validators out.
const inputValidators = {
  TextToImageInput: validateTextToImageInput,
  EditInput: validateEditInput,
  MultiEditInput: validateMultiEditInput,
} as const;

// Listed in full, not spread from inputValidators: a spread is not pure, so bundlers would keep it.
const schemaValidators = {
  TextToImageInput: validateTextToImageInput,
  EditInput: validateEditInput,
  MultiEditInput: validateMultiEditInput,
  SubmitResponse: validateSubmitResponse,
  QueueStatus: validateQueueStatus,
  InQueueStatus: validateInQueueStatus,
  InProgressStatus: validateInProgressStatus,
  CompletedStatus: validateCompletedStatus,
  KontextOutput: validateKontextOutput,
  CancelResponse: validateCancelResponse,
  CancelRefusal: validateCancelRefusal,
  HTTPValidationError: validateHTTPValidationError,
  FlatError: validateFlatError,
  ErrorBody: validateErrorBody,
  WebhookPayload: validateWebhookPayload,
  InitiateUploadResponse: validateInitiateUploadResponse,
  UploadedPart: validateUploadedPart,
} as const;

/** The schemas that have a compiled validator: every input and every response body. */
export type ValidatedSchemaName = keyof typeof schemaValidators;

/** Checks an endpoint's input against its schema; every problem is listed, not just the first. */
export function validateInput<T = unknown>(endpoint: string, input: unknown): ValidationResult<T> {
  const entry = (endpoints as Record<string, { input: keyof typeof inputValidators }>)[endpoint];
  if (!entry) {
    return {
      ok: false,
      issues: [
        {
          path: "",
          field: "endpoint",
          value: endpoint,
          rule: "enum",
          message: `endpoint must be one of ${Object.keys(endpoints).join(", ")} (got ${preview(endpoint)})`,
        },
      ],
    };
  }
  return runValidator<T>(inputValidators[entry.input], input);
}

/** Checks a value against any schema that has a compiled validator (inputs and response bodies). */
export function validateSchema<T = unknown>(name: ValidatedSchemaName, value: unknown): ValidationResult<T> {
  const validator: CompiledValidator | undefined = schemaValidators[name];
  if (!validator) throw new TypeError(`no compiled validator for schema ${name}`);
  return runValidator<T>(validator, value);
}

/** Runs one compiled validator and turns its errors into issues. */
export function runValidator<T>(validator: CompiledValidator, value: unknown): ValidationResult<T> {
  if (validator(value)) return { ok: true, value: value as T };
  return { ok: false, issues: toIssues(validator.errors ?? [], value) };
}

/** One line per issue, for error messages. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => i.message).join("; ");
}

function toIssues(errors: readonly CompiledValidatorError[], root: unknown): ValidationIssue[] {
  // oneOf/anyOf/allOf summaries and `if` branches repeat what their sub-errors already say.
  const relevant = errors.filter((e) => !["oneOf", "anyOf", "allOf", "if", "not"].includes(e.keyword));
  // A value that fits no branch of an anyOf (`detail` is an array or a string) fails one type per
  // branch; the issue names them all ("must be an array or a string").
  const typesAt = new Map<string, string[]>();
  for (const e of relevant) {
    if (e.keyword !== "type") continue;
    const types = typesAt.get(e.instancePath) ?? [];
    for (const type of String(e.params.type).split(",")) if (!types.includes(type)) types.push(type);
    typesAt.set(e.instancePath, types);
  }
  const typeFailed = new Set(typesAt.keys());
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const e of relevant.length ? relevant : errors) {
    // When a value has the wrong type, its enum/range errors are noise.
    if (e.keyword !== "type" && typeFailed.has(e.instancePath)) continue;
    const child =
      (e.params.missingProperty as string | undefined) ??
      (e.params.unevaluatedProperty as string | undefined) ??
      (e.params.additionalProperty as string | undefined);
    const path = child === undefined ? e.instancePath : `${e.instancePath}/${escapePointer(child)}`;
    const key = `${path}\u0000${e.keyword}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const value = child === undefined || e.keyword !== "required" ? at(root, path) : undefined;
    const field = fieldName(path);
    const error = e.keyword === "type" ? { ...e, params: { ...e.params, type: typesAt.get(e.instancePath)?.join(",") } } : e;
    issues.push({ path, field, value, rule: e.keyword, message: `${field || "value"} ${describe(error, value)}` });
  }
  return issues;
}

function describe(e: CompiledValidatorError, value: unknown): string {
  const p = e.params;
  const got = ` (got ${preview(value)})`;
  switch (e.keyword) {
    case "required":
      return "is required";
    case "unevaluatedProperties":
    case "additionalProperties":
      return "is not a known field";
    case "type":
      return `must be ${article(String(p.type))}${got}`;
    case "enum":
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}${got}`;
    case "const":
      return `must be ${JSON.stringify(p.allowedValue)}${got}`;
    case "minimum":
      return `must be at least ${p.limit}${got}`;
    case "maximum":
      return `must be at most ${p.limit}${got}`;
    case "exclusiveMinimum":
      return `must be greater than ${p.limit}${got}`;
    case "exclusiveMaximum":
      return `must be less than ${p.limit}${got}`;
    case "minLength":
      return p.limit === 1 ? `must not be empty${got}` : `must be at least ${p.limit} characters long${got}`;
    case "maxLength":
      return `must be at most ${p.limit} characters long${got}`;
    case "minItems":
      return `must have at least ${p.limit} item${p.limit === 1 ? "" : "s"}${got}`;
    case "maxItems":
      return `must have at most ${p.limit} items${got}`;
    case "pattern":
      return `must match ${p.pattern}${got}`;
    case "format":
      return `must be a valid ${p.format}${got}`;
    default:
      return `breaks the rule "${e.keyword}"${got}`;
  }
}

const article = (type: string) =>
  type
    .split(",")
    .map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`))
    .join(" or ");

/** A short, single-line rendering of a value: long strings (data URIs) are cut. */
export function preview(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
const unescapePointer = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

function at(root: unknown, pointer: string): unknown {
  if (!pointer) return root;
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[unescapePointer(raw)];
  }
  return node;
}

function fieldName(pointer: string): string {
  if (!pointer) return "";
  return pointer
    .slice(1)
    .split("/")
    .map(unescapePointer)
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), "");
}

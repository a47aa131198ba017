/**
 * fal's two error bodies, read and written in one place.
 * - Validation and model errors: `{"detail": [{loc, msg, type, url?, ctx?, input?}]}` (pydantic's shape;
 *   `loc` starts with `"body"` for the request body). Model 5xx errors may use it too.
 * - Infrastructure errors: `{"detail": "…", "error_type": "…"}`, the type also in `X-Fal-Error-Type`.
 * A 422 may carry a plain string `detail` (fal-js response.ts handles it), so readers accept both shapes
 * on every status (fal docs: model-apis/errors, request-errors).
 */
import type { ValidationIssue } from "../validate.js";
import { FAL_HEADERS } from "./headers.js";
import type { JsonReadFailure } from "./json.js";
import { truncate } from "./text.js";

/** A `loc` path as fal writes it: `["body", "image_urls", 0]`. */
export type Loc = (string | number)[];

/** One item of a validation error's `detail` array. */
export interface ErrorDetailItem {
  loc: Loc;
  msg: string;
  type: string;
  url?: string;
  ctx?: Record<string, unknown>;
  input?: unknown;
}

/** The validation shape. */
export interface ValidationErrorBody {
  detail: ErrorDetailItem[];
}

/** The flat shape. */
export interface FlatErrorBody {
  detail: string;
  error_type?: string;
}

const unescapePointer = (part: string) => part.replace(/~1/g, "/").replace(/~0/g, "~");
const escapePointer = (part: string) => part.replace(/~/g, "~0").replace(/\//g, "~1");

/** `/image_urls/0` → `["image_urls", 0]` (no `"body"` prefix: add it where a request body is meant). */
export function pointerToLoc(pointer: string): Loc {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map(unescapePointer)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** A `loc` without its leading `"body"`: that part says where (the request body), not what. */
const withoutBody = (loc: readonly unknown[]) => loc.filter((part, index) => !(index === 0 && part === "body"));

/** `["body", "image_urls", 0]` → `/image_urls/0`: the leading `"body"` is where, not what. */
export function locToPointer(loc: readonly unknown[]): string {
  return withoutBody(loc)
    .map((part) => `/${escapePointer(String(part))}`)
    .join("");
}

/** `["body", "image_urls", 0]` (or `/image_urls/0`) → `image_urls[0]`, the name a person reads. */
export function fieldName(where: readonly unknown[] | string): string {
  return fieldNameOfLoc(typeof where === "string" ? pointerToLoc(where) : withoutBody(where));
}

// The `loc` half of fieldName, on its own so that reading error bodies (issuesFromDetail, which every
// client bundle carries) does not pull in the pointer parser it never needs.
const fieldNameOfLoc = (loc: readonly unknown[]) =>
  loc.reduce<string>(
    (name, part) =>
      typeof part === "number" || /^\d+$/.test(String(part)) ? `${name}[${part}]` : name ? `${name}.${part}` : `${part}`,
    "",
  );

/**
 * A `detail` of either shape as field issues: each array item becomes one issue naming its field;
 * a string (or anything else) becomes one issue for the input as a whole.
 */
export function issuesFromDetail(detail: unknown): ValidationIssue[] {
  if (!Array.isArray(detail)) {
    const message = typeof detail === "string" && detail ? detail : "the input was rejected";
    return [{ path: "", field: "", value: undefined, rule: "server", message }];
  }
  return detail.map((item: Partial<ErrorDetailItem> | null) => {
    const loc = Array.isArray(item?.loc) ? item.loc : [];
    const field = fieldNameOfLoc(withoutBody(loc));
    const msg = typeof item?.msg === "string" ? item.msg : "is invalid";
    return {
      path: locToPointer(loc),
      field,
      value: item?.input,
      rule: typeof item?.type === "string" ? item.type : "server",
      message: field ? `${field}: ${msg}` : msg,
    };
  });
}

/** True when a body has a `detail` of either shape. */
export function isErrorBody(body: unknown): body is ValidationErrorBody | FlatErrorBody {
  const detail = (body as { detail?: unknown } | null)?.detail;
  return typeof detail === "string" || Array.isArray(detail);
}

/**
 * One line describing an error body of either shape (or a server's own `message`/`error`), cut to `max`
 * characters; empty when there is nothing readable (an HTML error page says nothing useful).
 */
export function describeErrorBody(body: unknown, max = 400): string {
  if (typeof body === "string") return body.trimStart().startsWith("<") ? "" : truncate(body, max);
  if (typeof body !== "object" || body === null) return "";
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.detail))
    return truncate(
      issuesFromDetail(record.detail)
        .map((issue) => issue.message)
        .join("; "),
      max,
    );
  for (const key of ["detail", "message", "error"]) {
    if (typeof record[key] === "string" && record[key]) return truncate(record[key] as string, max);
  }
  return "";
}

/** The error type of a body or its header, header first (fal sets both on infrastructure errors). */
export function errorTypeOf(body: unknown, headers?: Headers): string | undefined {
  const fromHeader = headers?.get(FAL_HEADERS.errorType);
  if (fromHeader) return fromHeader;
  const fromBody = (body as { error_type?: unknown } | null)?.error_type;
  return typeof fromBody === "string" ? fromBody : undefined;
}

/** fal's flat error body. */
export const flatErrorBody = (detail: string, errorType?: string): FlatErrorBody =>
  errorType ? { detail, error_type: errorType } : { detail };

/** A JSON answer: the one response helper servers here use, `(status, body, headers)` everywhere. */
export function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const all = new Headers(headers);
  all.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: all });
}

/**
 * A flat error answer as fal sends it: the body, and the type repeated in `X-Fal-Error-Type` on every
 * status (fal sets the header on infrastructure errors; sending it always lets clients branch on it).
 */
export function flatErrorResponse(status: number, detail: string, errorType: string, headers: HeadersInit = {}): Response {
  const all = new Headers(headers);
  all.set(FAL_HEADERS.errorType, errorType);
  return jsonResponse(status, flatErrorBody(detail, errorType), all);
}

/** A 422 with fal's validation body. */
export function validationErrorResponse(detail: ErrorDetailItem[], headers: HeadersInit = {}): Response {
  return jsonResponse(422, { detail } satisfies ValidationErrorBody, headers);
}

/**
 * The answer to a request body that is not JSON, or nests deeper than the server allows. Both are the
 * caller's input problem, so both are a 422 in fal's validation shape (FastAPI, which fal's apps run on,
 * answers unparsable JSON with `type: "json_invalid"` at `loc: ["body"]`), and the proxy and the mock
 * give the very same answer.
 */
export function unreadableBodyResponse(failure: JsonReadFailure, headers: HeadersInit = {}): Response {
  const item: ErrorDetailItem =
    failure.reason === "too_deep"
      ? {
          loc: ["body"],
          msg: `JSON nests deeper than ${failure.limit} levels`,
          type: "json_too_deep",
          ctx: { max_depth: failure.limit },
        }
      : { loc: ["body"], msg: "JSON decode error", type: "json_invalid", ctx: { error: failure.message } };
  return validationErrorResponse([item], headers);
}

/** A body over the server's size cap: 413 with fal's flat body, naming the cap. */
export function bodyTooLargeResponse(limitBytes: number, headers: HeadersInit = {}): Response {
  return flatErrorResponse(413, `the request body is larger than ${limitBytes} bytes`, "request_too_large", headers);
}

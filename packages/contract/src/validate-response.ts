/**
 * `validateResponse`: one recorded or live answer checked against the spec, as a list of
 * violations a person can act on (rule, JSON path, message), never a bare boolean.
 */
import { type ValidatedSchemaName, type ValidationIssue, validateSchema } from "@kontext-sdk/schema";
import { createSseParser, truncate } from "@kontext-sdk/schema/protocol";
import { type BodySchema, documentedResponse, type OperationId, specOperations } from "./spec-operations.js";

/** One way an answer (or a conversation) breaks the spec or the queue protocol. */
export interface Violation {
  /** Schema keywords appear as `schema:<keyword>` (e.g. `schema:required`); protocol rules by name (e.g. `foreign-origin`). */
  rule: string;
  /** JSON path into the body, like `$.images[0].url`; `$` for the answer as a whole. */
  path: string;
  message: string;
  /** The operation the answer belongs to, when there is one. */
  operationId?: OperationId | string;
  /** The HTTP status of the answer, when there is one. */
  status?: number;
}

/** Headers as a `Headers` object or a plain record (recorded exchanges usually hold the latter). */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks one answer of `operationId` against the spec.
 * `body` is the parsed JSON body; for the status stream, the raw `text/event-stream` text or an
 * array of already-parsed events. An undocumented status code is itself a violation.
 * Pass `headers` to have the content type checked too.
 */
export function validateResponse(operationId: OperationId, status: number, body: unknown, headers?: HeadersLike): Violation[] {
  const op = specOperations.get(operationId);
  const base = { operationId, status };
  if (!op) {
    return [{ ...base, rule: "unknown-operation", path: "$", message: `${operationId} is not an operation of the spec` }];
  }
  const documented = documentedResponse(op, status);
  if (!documented) {
    const codes = Object.keys(op.responses).join(", ");
    return [
      {
        ...base,
        rule: "undocumented-status",
        path: "$",
        message: `HTTP ${status} is not documented for ${operationId} (documented: ${codes})`,
      },
    ];
  }
  const mediaTypes = Object.keys(documented.content);
  if (mediaTypes.length === 0) return [];

  const violations: Violation[] = [];
  const contentType = headers ? headerValue(headers, "content-type") : undefined;
  let mediaType = mediaTypes[0]!;
  if (headers) {
    const found = mediaTypes.find((m) => sameMediaType(contentType, m));
    if (found) mediaType = found;
    else {
      violations.push({
        ...base,
        rule: "content-type",
        path: "$",
        message: `content-type ${contentType ?? "(none)"} is not documented for HTTP ${status} of ${operationId} (expected ${mediaTypes.join(" or ")})`,
      });
    }
  }
  const media = documented.content[mediaType]!;
  if (media.eventSchema) {
    const events = Array.isArray(body) ? body : parseEventStream(String(body ?? ""), base, violations);
    events.forEach((event, index) => {
      violations.push(...checkBody(media.eventSchema!, event, `$[${index}]`, base));
    });
    return violations;
  }
  if (media.schema) violations.push(...checkBody(media.schema, body, "$", base));
  return violations;
}

/** Reads the JSON events of a `text/event-stream` text; unreadable events become violations. */
export function parseEventStream(text: string, base: Pick<Violation, "operationId" | "status"> = {}, into: Violation[] = []) {
  const events: unknown[] = [];
  // The protocol core's SSE parser, the one the client reads the stream with; comments are keep-alives.
  const feed = createSseParser((message) => {
    if (!("data" in message)) return;
    try {
      events.push(JSON.parse(message.data));
    } catch {
      into.push({
        ...base,
        rule: "invalid-json",
        path: `$[${events.length}]`,
        message: `event ${events.length} is not JSON: ${truncate(message.data, 80)}`,
      });
    }
  });
  feed(text);
  // An event is only dispatched at the blank line that ends it; a conforming reader (EventSource,
  // our client) silently drops an unterminated last event, so name it, then check it anyway.
  const complete = events.length;
  feed("\n\n");
  if (events.length > complete) {
    into.push({
      ...base,
      rule: "sse-unterminated-event",
      path: `$[${complete}]`,
      message: `the last event is not followed by a blank line, so SSE readers drop it`,
    });
  }
  return events;
}

function checkBody(schema: BodySchema, value: unknown, root: string, base: Pick<Violation, "operationId" | "status">) {
  if ("name" in schema) return toViolations(validateSchema(schema.name, value), root, base);
  const branches = "oneOf" in schema ? schema.oneOf : schema.anyOf;
  const results = branches.map((name) => ({ name, result: validateSchema(name, value) }));
  const passing = results.filter((entry) => entry.result.ok);
  if ("anyOf" in schema ? passing.length > 0 : passing.length === 1) return [];
  if (passing.length > 1) {
    return [
      {
        ...base,
        rule: "schema:oneOf",
        path: root,
        message: `matches more than one of ${passing.map((entry) => entry.name).join(", ")}`,
      },
    ];
  }
  return bestFit(schema, results, value, root, base);
}

type BranchResult = { name: ValidatedSchemaName; result: ReturnType<typeof validateSchema> };

/**
 * No branch matched: report the one the server meant. Its `status` names it when the branches are
 * told apart by status (a `{status: "DONE"}` fits none, and saying "must be IN_PROGRESS" would send a
 * reader the wrong way, so that is reported as a status none of the branches accepts); otherwise the
 * branch with the fewest problems is almost always the intended one.
 */
function bestFit(
  schema: BodySchema,
  results: BranchResult[],
  value: unknown,
  root: string,
  base: Pick<Violation, "operationId" | "status">,
): Violation[] {
  const discriminator = "discriminator" in schema ? schema.discriminator : undefined;
  const status = (value as { status?: unknown } | null)?.status;
  if (discriminator && typeof status === "string") {
    const meant = discriminator[status];
    const chosen = results.find((entry) => entry.name === meant);
    if (chosen) return toViolations(chosen.result, root, base, chosen.name);
    const accepted = Object.entries(discriminator).map(([state, name]) => `${state} (${name})`);
    return [
      {
        ...base,
        rule: "schema:discriminator",
        path: `${root}.status`,
        message: `status ${JSON.stringify(status)} is none of the statuses this answer may carry: ${accepted.join(", ")}`,
      },
    ];
  }
  const best = results.reduce((fewest, entry) => (issueCount(entry.result) < issueCount(fewest.result) ? entry : fewest));
  return toViolations(best.result, root, base, best.name);
}

const issueCount = (result: ReturnType<typeof validateSchema>) => (result.ok ? 0 : result.issues.length);

function toViolations(
  result: ReturnType<typeof validateSchema>,
  root: string,
  base: Pick<Violation, "operationId" | "status">,
  branch?: ValidatedSchemaName,
): Violation[] {
  if (result.ok) return [];
  return result.issues.map((issue: ValidationIssue) => ({
    ...base,
    rule: `schema:${issue.rule}`,
    path: toJsonPath(issue.path, root),
    message: branch ? `${issue.message} (as ${branch})` : issue.message,
  }));
}

/** `/images/0/url` → `$.images[0].url`; keys that are not identifiers are quoted. */
export function toJsonPath(pointer: string, root = "$"): string {
  if (!pointer) return root;
  return pointer
    .slice(1)
    .split("/")
    .map((raw) => raw.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, key) => {
      if (/^\d+$/.test(key)) return `${acc}[${key}]`;
      if (/^[A-Za-z_$][\w$]*$/.test(key)) return `${acc}.${key}`;
      return `${acc}[${JSON.stringify(key)}]`;
    }, root);
}

export function headerValue(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === lower) return Array.isArray(value) ? value.join(", ") : (value as string | undefined);
  }
  return undefined;
}

function sameMediaType(actual: string | undefined, documented: string): boolean {
  const bare = actual?.split(";")[0]?.trim().toLowerCase();
  if (!bare) return false;
  if (bare === documented) return true;
  // `application/problem+json` and friends are still JSON when the spec says application/json.
  return documented === "application/json" && bare.endsWith("+json");
}

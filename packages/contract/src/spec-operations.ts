/**
 * The operation → answer table, read from the bundled spec documents exported by the schema
 * package instead of being typed out here: when the spec gains a status code or changes a schema,
 * the contract kit follows without an edit.
 */

import type { operations, syncOperations, ValidatedSchemaName } from "@kontext-sdk/schema";
import queueSpec from "@kontext-sdk/schema/openapi.json" with { type: "json" };
import syncSpec from "@kontext-sdk/schema/sync.json" with { type: "json" };
import { KontextContractError } from "./errors.js";

/** Every operation the two spec documents describe (queue host and sync host). */
export type OperationId = Exclude<keyof operations | keyof syncOperations, "receiveWebhook">;

/** What a body must match: one named schema, or exactly one of several (an inline `oneOf`). */
export type BodySchema = { name: ValidatedSchemaName } | { oneOf: ValidatedSchemaName[] };

/** One documented answer of an operation. */
export interface DocumentedResponse {
  status: string;
  /** Media type → how to check the body; empty when the answer has no body. */
  content: Record<string, { schema?: BodySchema; eventSchema?: BodySchema }>;
}

export interface OperationInfo {
  operationId: OperationId;
  method: string;
  path: string;
  document: "queue" | "sync";
  responses: Record<string, DocumentedResponse>;
}

interface JsonObject {
  [key: string]: unknown;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

function resolve(doc: JsonObject, node: unknown): JsonObject {
  let current = node as JsonObject;
  // Component responses may point at other components; follow until a concrete object.
  for (let depth = 0; depth < 10 && typeof current?.$ref === "string"; depth++) {
    const ref = current.$ref as string;
    if (!ref.startsWith("#/")) throw new KontextContractError(`external $ref ${ref} in the bundled spec`);
    current = ref
      .slice(2)
      .split("/")
      .reduce<JsonObject>((acc, part) => acc?.[part] as JsonObject, doc);
  }
  return current ?? {};
}

function schemaName(node: unknown): ValidatedSchemaName | undefined {
  const ref = (node as JsonObject | undefined)?.$ref;
  return typeof ref === "string" && ref.startsWith("#/components/schemas/")
    ? (ref.slice("#/components/schemas/".length) as ValidatedSchemaName)
    : undefined;
}

function bodySchema(doc: JsonObject, node: unknown): BodySchema | undefined {
  const named = schemaName(node);
  if (named) {
    // A named union (QueueStatus) is checked branch by branch, so a bad event is reported
    // against the branch it meant instead of against all three at once.
    const target = ((doc.components as JsonObject | undefined)?.schemas as JsonObject | undefined)?.[named];
    const union = (target as JsonObject | undefined)?.oneOf
      ? bodySchema(doc, { oneOf: (target as JsonObject).oneOf })
      : undefined;
    return union ?? { name: named };
  }
  const oneOf = (node as JsonObject | undefined)?.oneOf;
  if (Array.isArray(oneOf)) {
    const names = oneOf.map(schemaName);
    if (names.every((n): n is ValidatedSchemaName => n !== undefined)) return { oneOf: names };
  }
  return undefined;
}

function readDocument(doc: JsonObject, document: "queue" | "sync", into: Map<string, OperationInfo>): void {
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, JsonObject>)) {
    for (const method of METHODS) {
      const op = item[method] as JsonObject | undefined;
      if (!op || typeof op.operationId !== "string") continue;
      const responses: Record<string, DocumentedResponse> = {};
      for (const [status, raw] of Object.entries((op.responses ?? {}) as Record<string, unknown>)) {
        const response = resolve(doc, raw);
        const content: DocumentedResponse["content"] = {};
        for (const [mediaType, media] of Object.entries((response.content ?? {}) as Record<string, JsonObject>)) {
          const schema = media.schema as JsonObject | undefined;
          // An event stream documents its events through `contentSchema` (spec/DECISIONS.md #14).
          const eventSchema = schema?.contentSchema ? bodySchema(doc, schema.contentSchema) : undefined;
          content[mediaType] = eventSchema ? { eventSchema } : { schema: bodySchema(doc, schema) };
        }
        responses[status] = { status, content };
      }
      into.set(op.operationId, {
        operationId: op.operationId as OperationId,
        method: method.toUpperCase(),
        path,
        document,
        responses,
      });
    }
  }
}

function buildTable(): ReadonlyMap<string, OperationInfo> {
  const table = new Map<string, OperationInfo>();
  readDocument(queueSpec as unknown as JsonObject, "queue", table);
  readDocument(syncSpec as unknown as JsonObject, "sync", table);
  return table;
}

/** operationId → method, path and documented answers, for both spec documents. */
export const specOperations: ReadonlyMap<string, OperationInfo> = buildTable();

/** The documented answer for a status code: exact code first, then a range like `4XX`, then `default`. */
export function documentedResponse(op: OperationInfo, status: number): DocumentedResponse | undefined {
  return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
}

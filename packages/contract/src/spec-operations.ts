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

/**
 * What a body must match: one named schema, exactly one of several (`oneOf`, with the `status` value
 * that selects each branch when the branches have one), or at least one of several (`anyOf`, nested
 * unions flattened to their named leaves).
 */
export type BodySchema =
  | { name: ValidatedSchemaName }
  | { oneOf: ValidatedSchemaName[]; discriminator?: Record<string, ValidatedSchemaName> }
  | { anyOf: ValidatedSchemaName[] };

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

function componentSchema(doc: JsonObject, name: string): JsonObject | undefined {
  return ((doc.components as JsonObject | undefined)?.schemas as JsonObject | undefined)?.[name] as JsonObject | undefined;
}

/** `status` const of each branch → the branch, when every branch has one (the queue statuses do). */
function discriminatorOf(doc: JsonObject, names: ValidatedSchemaName[]): Record<string, ValidatedSchemaName> | undefined {
  const mapping: Record<string, ValidatedSchemaName> = {};
  for (const name of names) {
    const value = ((componentSchema(doc, name)?.properties as JsonObject | undefined)?.status as JsonObject | undefined)?.const;
    if (typeof value !== "string") return undefined;
    mapping[value] = name;
  }
  return mapping;
}

/** The named leaves of a union, nested `anyOf`/`oneOf` components flattened. */
function leaves(doc: JsonObject, refs: unknown[], depth = 0): ValidatedSchemaName[] | undefined {
  const names: ValidatedSchemaName[] = [];
  for (const ref of refs) {
    const name = schemaName(ref);
    if (!name) return undefined;
    const target = componentSchema(doc, name);
    const nested = (target?.anyOf ?? target?.oneOf) as unknown[] | undefined;
    const expanded = Array.isArray(nested) && depth < 5 ? leaves(doc, nested, depth + 1) : undefined;
    names.push(...(expanded ?? [name]));
  }
  return names;
}

function bodySchema(doc: JsonObject, node: unknown): BodySchema | undefined {
  const named = schemaName(node);
  // A named union (QueueStatus, ErrorBody, CancelRefusal) is checked branch by branch, so a bad body
  // is reported against the branch it meant instead of against all of them at once.
  const target = named ? componentSchema(doc, named) : (node as JsonObject | undefined);
  if (Array.isArray(target?.oneOf)) {
    const names = leaves(doc, target.oneOf);
    if (names) {
      const discriminator = discriminatorOf(doc, names);
      return discriminator ? { oneOf: names, discriminator } : { oneOf: names };
    }
  }
  if (Array.isArray(target?.anyOf)) {
    const names = leaves(doc, target.anyOf);
    if (names) return { anyOf: names };
  }
  return named ? { name: named } : undefined;
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

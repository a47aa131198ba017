/**
 * Storage initiates (the `storage` option): the proxy serves only the first step of fal's upload flow,
 * asking fal's storage host for a signed `upload_url` with the server's key. The browser then `PUT`s the
 * bytes to that URL itself, so the proxy never carries a file and its body cap stays tiny.
 */
import { validationErrorResponse } from "@kontext-sdk/schema/protocol";
import { tagRefusal } from "./refusal.js";
import { readJsonBody } from "./validation.js";

/** The initiate body is one flat object; nothing in it needs to nest. */
const INITIATE_MAX_DEPTH = 2;
const INITIATE_FIELDS = ["content_type", "file_name"] as const;

/**
 * Reads and checks an initiate body, `{content_type, file_name}` with string values (fal-js sends
 * exactly these), and returns what goes upstream: only those two fields, re-serialised, so a caller
 * cannot reach an undocumented option of fal's storage API through the server's key.
 */
export async function readInitiate(request: Request, maxBytes: number): Promise<string | Response> {
  const parsed = await readJsonBody(request, maxBytes, INITIATE_MAX_DEPTH);
  if (parsed instanceof Response) return parsed;
  const body = parsed.value;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return invalid(["body"], "the upload initiate body must be a JSON object {content_type, file_name}", "dict_type");
  }
  const record = body as Record<string, unknown>;
  for (const field of INITIATE_FIELDS) {
    if (!(field in record)) return invalid(["body", field], "Field required", "missing");
    if (typeof record[field] !== "string") return invalid(["body", field], "Input should be a valid string", "string_type");
  }
  if (record.file_name === "") return invalid(["body", "file_name"], "file_name must not be empty", "string_too_short");
  return JSON.stringify({ content_type: record.content_type, file_name: record.file_name });
}

const invalid = (loc: string[], msg: string, type: string) =>
  tagRefusal(validationErrorResponse([{ loc, msg, type }]), "invalid_input");

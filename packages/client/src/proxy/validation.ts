/**
 * Validation: a submit or run body is read through the size cap, parsed with a nesting bound and checked
 * with the spec's compiled validator, and every failure is answered as the mock answers it (the protocol
 * core's 413 and 422 bodies), so a client sees one behaviour whichever server it talks to.
 */
import { type EndpointId, INPUT_LIMITS, validateInput } from "@kontext-sdk/schema";
import {
  parseJsonBounded,
  pointerToLoc,
  readBodyText,
  unreadableBodyResponse,
  validationErrorResponse,
} from "@kontext-sdk/schema/protocol";
import { refuse, tagRefusal } from "./refusal.js";

const JSON_CONTENT_TYPE = /^application\/(.+\+)?json\s*(;|$)/i;

/** Reads, size-checks, parses and validates a submit or run body; answers like fal when it is wrong. */
export async function readInput(request: Request, endpoint: EndpointId, maxBodyBytes: number): Promise<string | Response> {
  const parsed = await readJsonBody(request, maxBodyBytes, INPUT_LIMITS.maxJsonDepth);
  if (parsed instanceof Response) return parsed;
  const result = validateInput(endpoint, parsed.value);
  if (!result.ok) {
    const detail = result.issues.map((issue) => ({
      loc: ["body", ...pointerToLoc(issue.path)],
      msg: issue.message,
      type: issue.rule,
    }));
    return tagRefusal(validationErrorResponse(detail), "invalid_input");
  }
  // What was validated is what is sent: re-serialising drops duplicate keys and other parser quirks
  // that could make upstream see a different value than the one checked here.
  return JSON.stringify(parsed.value);
}

/**
 * The steps every JSON body goes through before its own checks: a JSON media type (or none), the size
 * cap counted as the bytes arrive, UTF-8, and parsing with a nesting bound. Shared by submits, runs and
 * storage initiates, so each failure is answered the same way whichever operation it hits.
 */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
  maxDepth: number,
): Promise<{ ok: true; value: unknown } | Response> {
  const contentType = request.headers.get("content-type");
  if (contentType !== null && !JSON_CONTENT_TYPE.test(contentType)) {
    await request.body?.cancel().catch(() => {});
    return refuse(415, "proxy_unsupported_media_type", "unsupported_media_type", "the request body must be application/json");
  }
  const read = await readBodyText(request, maxBytes);
  if (!read.ok) return tagRefusal(read.response, read.refusal === "too_large" ? "body_too_large" : "invalid_json");
  const parsed = parseJsonBounded(read.text, maxDepth);
  if (!parsed.ok)
    return tagRefusal(unreadableBodyResponse(parsed), parsed.reason === "too_deep" ? "json_too_deep" : "invalid_json");
  return parsed;
}

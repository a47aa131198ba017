/**
 * @kontext-sdk/schema/protocol — fal's queue protocol as the spec decided it, written once. The client,
 * its proxy and webhooks, the mocks, the contract kit and the CLI all import these rules; none keeps a
 * copy. Hand-written, dependency-free, web APIs only (it runs in Node, Deno, Bun, browsers and workers),
 * and separate from the package's main entry so importing a rule never pulls in the compiled validators.
 *
 *   paths.ts       owner/app rule, request paths, parsing a queue path, URL joining
 *   headers.ts     fal's header and query names, X-Fal-Retryable, user start timeouts, Retry-After
 *   status.ts      202 vs 200, "finished", the logs flag
 *   error-body.ts  both error body shapes: reading (issues, field names, loc ↔ pointer) and answering
 *   text.ts        redaction (every form of a secret), truncation, control-character escaping
 *   json.ts        nesting-depth checks before JSON.parse
 *   body.ts        reading a body through a byte cap (declared and counted), as bytes or UTF-8 text
 *   webhook.ts     the webhook signed message, header names, JWKS URL, tolerance
 *   images.ts      image type sniffing, data URIs
 *   bytes.ts       base64, hex, SHA-256 on web APIs
 *   sleep.ts       an abortable wait
 *   sse.ts         the server-sent events reader (fal's status stream)
 *   storage.ts     the storage flow's initiate paths
 *   errors.ts      KontextError, the base of every error the packages throw
 *   env.ts         fal's key from the environment (FAL_KEY, FAL_KEY_ID + FAL_KEY_SECRET)
 */
export { type BodyTextRead, type CappedRead, readBodyText, readCapped } from "./body.js";
export { fromBase64, fromHex, sha256Hex, toBase64, toHex } from "./bytes.js";
export { type EnvKey, type EnvKeySource, falKeyFromEnv } from "./env.js";
export {
  bodyTooLargeResponse,
  describeErrorBody,
  type ErrorDetailItem,
  errorTypeOf,
  type FlatErrorBody,
  fieldName,
  flatErrorBody,
  flatErrorResponse,
  isErrorBody,
  issuesFromDetail,
  jsonResponse,
  type Loc,
  locToPointer,
  pointerToLoc,
  unreadableBodyResponse,
  type ValidationErrorBody,
  validationErrorResponse,
} from "./error-body.js";
export { isKontextError, KontextError } from "./errors.js";
export { FAL_HEADERS, FAL_QUERY, isUserTimeout, parseRetryAfter, retryableHint } from "./headers.js";
export {
  decodeDataUri,
  IMAGE_EXTENSIONS,
  type ImageMime,
  imageMimeOf,
  isImageSourceUrl,
  sniffImageType,
  toDataUri,
} from "./images.js";
export { type JsonReadFailure, jsonDepth, parseJsonBounded } from "./json.js";
export {
  APP_NAMESPACES,
  appPath,
  isSafeRequestId,
  joinUrl,
  methodOf,
  originOf,
  type ParsedRequestPath,
  parseRequestPath,
  type QueuePaths,
  queuePaths,
  type RequestOperation,
  requestPath,
} from "./paths.js";
export { sleep } from "./sleep.js";
export { createSseParser, type SseFeed, type SseMessage } from "./sse.js";
export { isFinished, type QueueStatusName, statusHttpCode, withLogs } from "./status.js";
export { initiateKindOf, initiatePath } from "./storage.js";
export { escapeControl, REDACTED, redact, redactor, redactValue, safeText, secretForms, truncate } from "./text.js";
export {
  FAL_JWKS_URL,
  isSignatureHex,
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookSignedFields,
  webhookSignedMessage,
} from "./webhook.js";

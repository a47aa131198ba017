/**
 * fal's storage flow, simulated (spec/storage.yaml; fal-js libs/client/src/storage.ts): initiate with the
 * key → `{upload_url, file_url}`; `PUT` the bytes to the signed `upload_url` (no key); fal serves the file
 * at `file_url`. Files above 90 MB go in parts: `initiate-multipart`, `PUT {upload_url}/{n}` answering
 * `{partNumber, etag}`, `POST {upload_url}/complete` with the parts. Stored files expire on the mock's
 * clock after the lifecycle the initiate asked for (default 7 days: fal keeps CDN files at least that long).
 *
 * URLs, all on the mock's origin:
 *   POST /storage/upload/initiate[-multipart]   (auth checked by the caller, like every keyed route)
 *   PUT  /storage/uploads/{token}?signature=…   single upload
 *   PUT  /storage/uploads/{token}/{n}?signature=…, POST /storage/uploads/{token}/complete?signature=…
 *   GET  /storage/files/{token}/{file name}     the stored bytes
 */
import {
  bodyTooLargeResponse,
  FAL_HEADERS,
  flatErrorResponse,
  initiateKindOf,
  jsonResponse,
  readBodyText,
  readCapped,
  sha256Hex,
  toHex,
  validationErrorResponse,
} from "@kontext-sdk/schema/protocol";
import { methodNotAllowed, notFound } from "./responses.js";

/** fal keeps uploaded files at least 7 days unless a lifecycle preference says otherwise. */
export const DEFAULT_FILE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** The largest file (and the largest part) the mock stores by default: 256 MiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

export interface StorageOptions {
  /** The largest file the mock accepts, in bytes (parts count together). */
  maxUploadBytes?: number;
  /** How long files are kept when the initiate names no lifecycle, in ms. */
  fileTtlMs?: number;
}

/** One upload, from initiate to the file being served. */
interface Upload {
  token: string;
  signature: string;
  fileName: string;
  contentType: string;
  multipart: boolean;
  parts: Map<number, { bytes: Uint8Array; etag: string }>;
  bytes?: Uint8Array;
  /** When the stored file stops being served (on the mock's clock). */
  expiresAt: number;
  ttlMs: number;
}

/** What the mock's log and tests can see of an upload. */
export interface StoredFile {
  fileUrl: string;
  fileName: string;
  contentType: string;
  size: number;
  expiresAt: number;
}

export interface StorageSimulator {
  /** True for a path this simulator answers. */
  owns(path: string): boolean;
  /** True when the route needs the key (initiate); uploads and files are authorised by their URL. */
  needsAuth(path: string): boolean;
  /** `path` is the request's path relative to the mock's base (the URL's own path by default). */
  handle(request: Request, url: URL, origin: string, path?: string): Promise<Response>;
  /** The files stored so far (complete uploads only). */
  files(): StoredFile[];
  /** Forgets every upload and file. */
  clear(): void;
}

const UPLOAD = /^\/storage\/uploads\/([0-9a-f]{32})(?:\/(\d+|complete))?$/;
const FILE = /^\/storage\/files\/([0-9a-f]{32})\/([^/]+)$/;

/** What the storage routes share: the uploads by token, the mock's clock and the limits. */
interface StorageState {
  uploads: Map<string, Upload>;
  now: () => number;
  maxBytes: number;
  defaultTtl: number;
}

export function createStorageSimulator(now: () => number, options: StorageOptions = {}): StorageSimulator {
  const state: StorageState = {
    uploads: new Map(),
    now,
    maxBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    defaultTtl: options.fileTtlMs ?? DEFAULT_FILE_TTL_MS,
  };
  const { uploads } = state;

  return {
    owns: (path) => path.startsWith("/storage/"),
    needsAuth: (path) => initiateKindOf(path) !== undefined,
    async handle(request, url, origin, path = url.pathname) {
      const multipart = initiateKindOf(path);
      if (multipart !== undefined) {
        if (request.method !== "POST") return methodNotAllowed();
        return initiate(state, request, multipart, origin);
      }
      const uploadMatch = UPLOAD.exec(path);
      if (uploadMatch) {
        const upload = uploads.get(uploadMatch[1]!);
        // The signed URL is the credential: a wrong or missing signature is refused like fal's CDN does.
        if (!upload || url.searchParams.get("signature") !== upload.signature || upload.bytes) {
          return flatErrorResponse(403, "The signed upload URL is not valid", "forbidden");
        }
        return receive(state, request, upload, uploadMatch[2]);
      }
      const fileMatch = FILE.exec(path);
      if (fileMatch) return serve(state, uploads.get(fileMatch[1]!), decodeURIComponent(fileMatch[2]!), request.method);
      return notFound();
    },
    clear: () => uploads.clear(),
    files: () =>
      [...uploads.values()]
        .filter((upload) => upload.bytes)
        .map((upload) => ({
          fileUrl: fileUrl("", upload),
          fileName: upload.fileName,
          contentType: upload.contentType,
          size: upload.bytes!.length,
          expiresAt: upload.expiresAt,
        })),
  };
}

/** `POST /storage/upload/initiate[-multipart]`: a new upload and its signed URL. */
async function initiate(state: StorageState, request: Request, multipart: boolean, origin: string): Promise<Response> {
  const read = await readBodyText(request, 64 * 1024);
  if (!read.ok) return read.response;
  let body: { content_type?: unknown; file_name?: unknown };
  try {
    body = JSON.parse(read.text);
  } catch {
    return invalid(["body"], "JSON decode error", "json_invalid");
  }
  if (typeof body?.file_name !== "string" || !body.file_name) return invalid(["body", "file_name"], "Field required", "missing");
  const ttlMs = lifecycleTtl(request.headers.get(FAL_HEADERS.uploadLifecycle), state.defaultTtl);
  if (ttlMs === undefined) return invalid(["header", FAL_HEADERS.uploadLifecycle], "Invalid lifecycle preference", "value_error");
  const token = randomHex(16);
  const upload: Upload = {
    token,
    signature: randomHex(16),
    fileName: body.file_name.replace(/[^A-Za-z0-9._-]/g, "_"),
    contentType: typeof body.content_type === "string" && body.content_type ? body.content_type : "application/octet-stream",
    multipart,
    parts: new Map(),
    expiresAt: Number.POSITIVE_INFINITY,
    ttlMs,
  };
  state.uploads.set(token, upload);
  return jsonResponse(200, {
    upload_url: `${origin}/storage/uploads/${token}?signature=${upload.signature}`,
    file_url: fileUrl(origin, upload),
  });
}

/** The signed upload URL: `PUT` the whole file, `PUT …/{n}` one part, `POST …/complete` the parts. */
async function receive(state: StorageState, request: Request, upload: Upload, target: string | undefined): Promise<Response> {
  if (target === "complete") return complete(state, request, upload);
  if (request.method !== "PUT") return methodNotAllowed();
  if (target === undefined) {
    if (upload.multipart) return flatErrorResponse(400, "this upload takes parts", "bad_request");
    const bytes = await readBytes(request, state.maxBytes);
    if (bytes instanceof Response) return bytes;
    return store(state, upload, bytes, request.headers.get("content-type"));
  }
  if (!upload.multipart) return flatErrorResponse(400, "this upload takes no parts", "bad_request");
  const partNumber = Number(target);
  const stored = [...upload.parts.values()].reduce((sum, part) => sum + part.bytes.length, 0);
  const bytes = await readBytes(request, state.maxBytes - stored);
  if (bytes instanceof Response) return bytes;
  const etag = `"${(await sha256Hex(bytes)).slice(0, 32)}"`;
  upload.parts.set(partNumber, { bytes, etag });
  return jsonResponse(200, { partNumber, etag }, { etag });
}

/** `POST {upload_url}/complete`: the parts, in order and with their etags, become the file. */
async function complete(state: StorageState, request: Request, upload: Upload): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed();
  const read = await readBodyText(request, 1024 * 1024);
  if (!read.ok) return read.response;
  let parts: { partNumber?: unknown; etag?: unknown }[] | undefined;
  try {
    parts = (JSON.parse(read.text) as { parts?: typeof parts }).parts;
  } catch {
    return invalid(["body"], "JSON decode error", "json_invalid");
  }
  if (!Array.isArray(parts) || parts.length === 0) return invalid(["body", "parts"], "Field required", "missing");
  const chunks: Uint8Array[] = [];
  for (const [index, part] of parts.entries()) {
    const stored = upload.parts.get(Number(part?.partNumber));
    if (part?.partNumber !== index + 1 || !stored || stored.etag !== part.etag) {
      return flatErrorResponse(400, `part ${index + 1} is missing or its etag does not match`, "bad_request");
    }
    chunks.push(stored.bytes);
  }
  upload.parts.clear();
  return store(state, upload, concat(chunks), upload.contentType);
}

/** Keeps the file's bytes and starts its lifetime on the mock's clock. */
function store(state: StorageState, upload: Upload, bytes: Uint8Array, contentType: string | null): Response {
  upload.bytes = bytes;
  if (contentType && contentType !== "application/octet-stream") upload.contentType = contentType;
  upload.expiresAt = state.now() + upload.ttlMs;
  return jsonResponse(200, { size: bytes.length });
}

/** `GET`/`HEAD /storage/files/{token}/{name}`: the stored bytes until they expire (then forgotten). */
function serve(state: StorageState, upload: Upload | undefined, name: string, method: string): Response {
  if (method !== "GET" && method !== "HEAD") return methodNotAllowed();
  if (!upload?.bytes || upload.fileName !== name || state.now() >= upload.expiresAt) {
    if (upload?.bytes && state.now() >= upload.expiresAt) state.uploads.delete(upload.token);
    return flatErrorResponse(404, "File not found", "not_found");
  }
  return new Response(method === "HEAD" ? null : (upload.bytes as BodyInit), {
    status: 200,
    headers: { "content-type": upload.contentType, "content-length": String(upload.bytes.length) },
  });
}

const fileUrl = (origin: string, upload: Upload) =>
  `${origin}/storage/files/${upload.token}/${encodeURIComponent(upload.fileName)}`;

/** `{expiration_duration_seconds}` from the lifecycle header, in ms; the default without one; undefined when unreadable. */
function lifecycleTtl(header: string | null, fallback: number): number | undefined {
  if (!header) return fallback;
  try {
    const seconds = (JSON.parse(header) as { expiration_duration_seconds?: unknown }).expiration_duration_seconds;
    if (seconds === undefined) return fallback;
    return typeof seconds === "number" && seconds >= 0 ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The body's bytes, at most `limit` of them (the core's 413 naming `limit` past it, without reading the rest). */
async function readBytes(request: Request, limit: number): Promise<Uint8Array | Response> {
  const read = await readCapped(request.body, limit, request.headers.get("content-length"));
  return read.ok ? read.bytes : bodyTooLargeResponse(limit);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

const invalid = (loc: (string | number)[], msg: string, type: string) => validationErrorResponse([{ loc, msg, type }]);

const randomHex = (bytes: number) => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

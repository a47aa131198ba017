/**
 * Uploads to fal's storage, as fal's own client does (fal-js libs/client/src/storage.ts; spec/storage.yaml):
 * initiate on the storage host with the key → `{upload_url, file_url}`, then `PUT` the bytes to the signed
 * `upload_url` WITHOUT credentials, and pass the short `file_url` as the image. Files above 90 MB go in
 * 10 MB parts (initiate-multipart, `PUT {upload_url}/{n}`, `POST {upload_url}/complete`).
 *
 * Retries never change the URL a caller gets: a failed `PUT` is sent again to the same signed URL, and the
 * `file_url` is only handed out once every byte is stored. A failed initiate may be retried freely
 * (nothing refers to its URLs yet).
 */
import { STORAGE_BASE_URL, STORAGE_UPLOAD } from "@kontext-sdk/schema";
import {
  describeErrorBody,
  FAL_HEADERS,
  IMAGE_EXTENSIONS,
  type ImageMime,
  imageMimeOf,
  initiatePath,
  joinUrl,
  readCapped,
  sleep,
  sniffImageType,
} from "@kontext-sdk/schema/protocol";
import { KontextApiError, KontextNetworkError, redactingErrors, type SecretsOf } from "./errors.js";
import type { Send } from "./http.js";
import type { BinaryImage } from "./inputs.js";
import { DEFAULT_RETRY, type RetryOptions, retryDelay } from "./retry.js";
import { whenAborted } from "./signals.js";

/** fal-js's multipart threshold (90 MiB) and part size (10 MiB), as the spec records them. */
export const MULTIPART_THRESHOLD_BYTES: number = STORAGE_UPLOAD.multipartThresholdBytes;
export const MULTIPART_PART_BYTES: number = STORAGE_UPLOAD.partBytes;

/** fal's storage host (fal-js config.ts; the spec's `STORAGE_BASE_URL`). */
export const STORAGE_HOST: string = STORAGE_BASE_URL;

/**
 * How a PUT (or the multipart POST) to a signed URL is retried unless the client's `retry` option says
 * otherwise: fal-js tries each part three times (so 2 retries, and a single PUT gets the same), after a
 * network error, a 429 or any 5xx (a CDN's 500 is as passing as its 503).
 */
const SIGNED_URL_RETRY = { ...DEFAULT_RETRY, maxRetries: 2 };
const signedUrlStatus = (status: number) => status === 429 || status >= 500;

/** The client's `retry` option as the signed-URL calls apply it: `false`, or its fields over the defaults above. */
interface SignedUrlRetry {
  options: RetryOptions;
  /** A network error always; an answer when its status is the user's `statuses`, else `signedUrlStatus`. */
  retries: (failure: KontextApiError) => boolean;
}

function signedUrlRetry(retry: Partial<RetryOptions> | false | undefined): SignedUrlRetry | false {
  if (retry === false) return false;
  const statuses = retry?.statuses;
  const retryableStatus = statuses ? (status: number) => statuses.includes(status) : signedUrlStatus;
  return {
    options: { ...SIGNED_URL_RETRY, ...retry },
    retries: (failure) => failure instanceof KontextNetworkError || retryableStatus(failure.status),
  };
}

/** How long fal keeps an uploaded file and who may read it (`x-fal-object-lifecycle`). */
export interface ObjectLifecycle {
  /** Seconds until fal deletes the file. */
  expirationDurationSeconds?: number;
  /** Who may read the file at first (fal's `initial_acl`, e.g. `"public"` or `"private"`). */
  initialAcl?: string;
}

/** Bytes sent so far, for a progress bar. */
export interface UploadProgress {
  uploadedBytes: number;
  totalBytes: number;
}

export interface UploadOptions {
  /** The file's media type. Default: the `Blob`'s type, else sniffed from the bytes, else `application/octet-stream`. */
  contentType?: string;
  /** The file's name. Default: a `File`'s name, else `<time>.<extension>` as fal-js does. */
  fileName?: string;
  lifecycle?: ObjectLifecycle;
  signal?: AbortSignal;
  /** Called after each part (and at the start and end of a single upload): `fetch` reports no finer progress. */
  onProgress?: (progress: UploadProgress) => void;
}

export interface KontextStorage {
  /** Uploads the bytes and resolves to the public `file_url` to pass as `image_url` / `image_urls[i]`. */
  upload(data: BinaryImage, options?: UploadOptions): Promise<string>;
}

interface Initiated {
  upload_url: string;
  file_url: string;
}

// The most read of a signed URL's answer (an error page, a part's `{etag}`): a storage host must not make the client buffer much.
const SIGNED_ANSWER_BYTES = 64 * 1024;

/**
 * The storage calls. `send` is the client's transport (auth, proxy, retries, redaction) for the storage
 * host; `fetchFile` is a plain fetch for the signed upload URLs, which must never see the key. `secrets` is
 * the transport's key: the initiate and part answers become errors here, after the transport handed them
 * back, so `upload` redacts what it throws itself (see `redactingErrors`). `retry` is the client's option:
 * the transport applies it to the initiate, and the signed-URL calls here apply it too.
 */
export function createStorage(
  send: Send,
  fetchFile: typeof fetch,
  storageBaseUrl: string,
  secrets: SecretsOf = () => [],
  retry?: Partial<RetryOptions> | false,
): KontextStorage {
  const policy = signedUrlRetry(retry);

  /** One PUT (or POST) to a signed URL, tried again on a network error or a retryable status, as `policy` says. */
  async function toSignedUrl(
    method: "PUT" | "POST",
    url: string,
    body: Blob | string,
    contentType: string,
    signal?: AbortSignal,
  ) {
    for (let attempt = 0; ; attempt++) {
      let failure: KontextApiError;
      try {
        const sent = fetchFile(url, { method, body, headers: { "content-type": contentType }, signal });
        // An injected fetch may ignore its signal; racing it keeps an abort prompt anyway (as the transport does).
        const response = await (signal ? Promise.race([sent, whenAborted(signal)]) : sent);
        if (response.ok) return response;
        failure = await signedUrlFailure(method, response);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        failure = new KontextNetworkError(`${method} upload: ${error instanceof Error ? error.message : error}`, error);
      }
      if (!policy || attempt >= policy.options.maxRetries || !policy.retries(failure)) throw failure;
      await sleep(retryDelay(policy.options, attempt), signal);
    }
  }

  async function uploadInParts(blob: Blob, fileName: string, options: UploadOptions): Promise<string> {
    const { upload_url, file_url } = await initiate(send, storageBaseUrl, true, blob, fileName, options);
    const signed = new URL(upload_url);
    const at = (suffix: string) => `${signed.origin}${signed.pathname.replace(/\/+$/, "")}/${suffix}${signed.search}`;
    const parts: { partNumber: number; etag: string }[] = [];
    const total = blob.size;
    for (let offset = 0, partNumber = 1; offset < total; offset += MULTIPART_PART_BYTES, partNumber++) {
      const part = blob.slice(offset, Math.min(total, offset + MULTIPART_PART_BYTES));
      const response = await toSignedUrl("PUT", at(String(partNumber)), part, "application/octet-stream", options.signal);
      const answer = await partAnswerOf(response);
      const etag = typeof answer?.etag === "string" ? answer.etag : response.headers.get("etag");
      if (!etag)
        throw new KontextApiError(`PUT upload part ${partNumber}: the answer has no etag`, { status: 200, body: answer });
      parts.push({ partNumber, etag });
      options.onProgress?.({ uploadedBytes: Math.min(total, offset + MULTIPART_PART_BYTES), totalBytes: total });
    }
    await toSignedUrl("POST", at("complete"), JSON.stringify({ parts }), "application/json", options.signal);
    return file_url;
  }

  async function upload(data: BinaryImage, options: UploadOptions): Promise<string> {
    const blob = await asBlob(data, options.contentType);
    const fileName = options.fileName ?? fileNameOf(data) ?? `${Date.now()}.${extensionOf(blob.type)}`;
    if (blob.size > MULTIPART_THRESHOLD_BYTES) return uploadInParts(blob, fileName, options);
    const { upload_url, file_url } = await initiate(send, storageBaseUrl, false, blob, fileName, options);
    options.onProgress?.({ uploadedBytes: 0, totalBytes: blob.size });
    await toSignedUrl("PUT", upload_url, blob, blob.type, options.signal);
    options.onProgress?.({ uploadedBytes: blob.size, totalBytes: blob.size });
    return file_url;
  }

  return { upload: (data, options = {}) => redactingErrors(secrets, upload(data, options)) };
}

/** Asks the storage host, through the client's transport, for a signed upload URL and the file's public URL. */
async function initiate(
  send: Send,
  storageBaseUrl: string,
  multipart: boolean,
  blob: Blob,
  fileName: string,
  options: UploadOptions,
): Promise<Initiated> {
  const headers: Record<string, string> = {};
  if (options.lifecycle) headers[FAL_HEADERS.uploadLifecycle] = lifecycleJson(options.lifecycle);
  const [data] = await send({
    method: "POST",
    url: `${joinUrl(storageBaseUrl, initiatePath(multipart))}?storage_type=${STORAGE_UPLOAD.storageType}`,
    body: JSON.stringify({ content_type: blob.type, file_name: fileName }),
    headers,
    signal: options.signal,
  });
  const answer = data as Partial<Initiated> | undefined;
  if (typeof answer?.upload_url !== "string" || typeof answer.file_url !== "string") {
    throw new KontextApiError("POST storage upload initiate: the answer has no upload_url/file_url", {
      status: 200,
      body: data,
      retryable: true,
    });
  }
  return answer as Initiated;
}

/** The error for a signed URL's non-2xx answer, quoting what of its body fits the small cap. */
async function signedUrlFailure(method: "PUT" | "POST", response: Response): Promise<KontextApiError> {
  const read = await readCapped(response.body, SIGNED_ANSWER_BYTES).catch(() => undefined);
  const text = read?.ok ? new TextDecoder().decode(read.bytes) : "";
  const reason = describeErrorBody(text, 120) || response.statusText || "no details";
  return new KontextApiError(`${method} upload failed with HTTP ${response.status}: ${reason}`, {
    status: response.status,
    body: text,
    retryable: signedUrlStatus(response.status),
  });
}

/** A part's answer (`{etag}`), read through the same small cap; unreadable or too large: nothing (the `etag` header then). */
async function partAnswerOf(response: Response): Promise<{ etag?: unknown } | undefined> {
  const read = await readCapped(response.body, SIGNED_ANSWER_BYTES).catch(() => undefined);
  if (!read?.ok) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(read.bytes));
  } catch {
    return undefined;
  }
}

/**
 * A lifecycle as fal's JSON (`{expiration_duration_seconds, initial_acl}`), for the storage header and the
 * queue's `x-fal-object-lifecycle-preference` alike; a field left out is left out (JSON drops `undefined`).
 */
export const lifecycleJson = (lifecycle: ObjectLifecycle) =>
  JSON.stringify({ expiration_duration_seconds: lifecycle.expirationDurationSeconds, initial_acl: lifecycle.initialAcl });

/** The data as a `Blob` with a content type: the one given, the Blob's own, or sniffed from the first bytes. */
async function asBlob(data: BinaryImage, contentType: string | undefined): Promise<Blob> {
  if (data instanceof Blob && (contentType === undefined || contentType === data.type) && data.type) return data;
  const head = new Uint8Array(await (data instanceof Blob ? data.slice(0, 16).arrayBuffer() : Promise.resolve(headOf(data))));
  const type = contentType || (data instanceof Blob && data.type) || sniffImageType(head) || "application/octet-stream";
  if (data instanceof Blob) return data.slice(0, data.size, type);
  return new Blob([data as Uint8Array<ArrayBuffer> | ArrayBuffer], { type });
}

const headOf = (data: Uint8Array | ArrayBuffer) => (data instanceof Uint8Array ? data.slice(0, 16) : data.slice(0, 16));

const fileNameOf = (data: BinaryImage) =>
  typeof File !== "undefined" && data instanceof File && data.name ? data.name : undefined;

const extensionOf = (mime: string) => IMAGE_EXTENSIONS[imageMimeOf(mime) as ImageMime] ?? "bin";

import { INPUT_LIMITS } from "@kontext-sdk/schema";
import { toDataUri as bytesToDataUri, sniffImageType } from "@kontext-sdk/schema/protocol";

/** Binary image data accepted wherever an image URL is (`File` is a `Blob`). */
export type BinaryImage = Blob | Uint8Array | ArrayBuffer;

/**
 * The input of an endpoint as callers may give it: `image_url` and the items of `image_urls` may also be
 * binary, and are sent as base64 data URIs (a third larger than the bytes, inside the JSON body).
 */
export type WithBinaryImages<T> = {
  [K in keyof T]: K extends "image_url" ? T[K] | BinaryImage : K extends "image_urls" ? Array<string | BinaryImage> : T[K];
};

const isBinary = (value: unknown): value is BinaryImage =>
  value instanceof Uint8Array || value instanceof ArrayBuffer || (typeof Blob !== "undefined" && value instanceof Blob);

/**
 * Image bytes → `data:<mime>;base64,...`. The type is the `Blob`'s when it declares one, else sniffed from
 * the first bytes (PNG, JPEG, GIF, WebP, AVIF), else `application/octet-stream`.
 */
export async function toDataUri(value: BinaryImage): Promise<string> {
  const declared = typeof Blob !== "undefined" && value instanceof Blob ? value.type : "";
  const bytes =
    value instanceof Uint8Array
      ? value
      : new Uint8Array(value instanceof ArrayBuffer ? value : await (value as Blob).arrayBuffer());
  return bytesToDataUri(bytes, declared || sniffImageType(bytes) || "application/octet-stream");
}

/** Uploads binary images above `threshold` bytes; smaller ones stay data URIs. */
export interface ImageUploader {
  threshold: number;
  upload(data: BinaryImage, signal?: AbortSignal): Promise<string>;
}

/** The default `uploadThreshold`: 1 MiB. A thumbnail goes inline; a photo goes to storage. */
export const DEFAULT_UPLOAD_THRESHOLD = 1024 * 1024;

const sizeOf = (value: BinaryImage) =>
  value instanceof ArrayBuffer || value instanceof Uint8Array ? value.byteLength : value.size;

/** A string's size in UTF-8 (what `fetch` sends), which is what the body bound counts. */
export const utf8Length = (text: string) => new TextEncoder().encode(text).byteLength;

/**
 * An image's size as a data URI in the JSON body, from above: `data:` + the MIME type (the `Blob`'s, or at
 * most "application/octet-stream", 24 characters) + `;base64,` + 4 characters per 3 bytes.
 */
const inlineSize = (value: BinaryImage) =>
  13 + Math.max(24, (value as Blob).type?.length ?? 0) + 4 * Math.ceil(sizeOf(value) / 3);

/** Room kept in the body for each uploaded image's URL (fal's file URLs are about 80 characters). */
const URL_ROOM = 2048;

/**
 * The binary images to upload, largest first: those above the threshold, then more while the body would
 * still be over the spec's bound (`INPUT_LIMITS.maxBodyBytes`: the proxy and fal answer 413 past it). The
 * body is estimated from above rather than with a fixed reserve: the rest of the JSON is measured (binaries
 * as ""), so data URI strings the caller gave count too, then each data URI and URL_ROOM per upload. When
 * the rest alone is over the bound, no upload can help and none is added (`prepareBody` refuses the body).
 */
function chooseUploads(input: object, binaries: BinaryImage[], threshold: number): Set<BinaryImage> {
  const uploads = new Set<BinaryImage>();
  const rest = utf8Length(JSON.stringify(input, (_key, value) => (isBinary(value) ? "" : value)));
  const room = INPUT_LIMITS.maxBodyBytes - rest;
  let over = binaries.reduce((sum, value) => sum + inlineSize(value), -room);
  for (const value of binaries.sort((a, b) => sizeOf(b) - sizeOf(a))) {
    if (sizeOf(value) <= threshold && (over <= 0 || room < 0)) break;
    uploads.add(value);
    over += URL_ROOM - inlineSize(value);
  }
  return uploads;
}

/**
 * Replaces binary `image_url` / `image_urls[i]` with a URL: uploaded to storage when larger than the
 * uploader's threshold or when inline they would push the body past the spec's bound (uploads run in
 * parallel, as fal-js's do), else a data URI. Everything else is passed through untouched.
 */
export async function prepareInput<T>(input: T, uploader?: ImageUploader, signal?: AbortSignal): Promise<T> {
  if (!input || typeof input !== "object") return input;
  const source = input as Record<string, unknown>;
  const list = Array.isArray(source.image_urls) ? source.image_urls : [];
  const binaries = [source.image_url, ...list].filter(isBinary);
  const uploads = uploader && binaries.length ? chooseUploads(source, binaries, uploader.threshold) : new Set();
  const encode = (value: unknown) => {
    if (!isBinary(value)) return value;
    return uploads.has(value) ? (uploader as ImageUploader).upload(value, signal) : toDataUri(value);
  };
  const out = { ...source };
  if (isBinary(source.image_url)) out.image_url = await encode(source.image_url);
  if (list.some(isBinary)) out.image_urls = await Promise.all(list.map(encode));
  return out as T;
}

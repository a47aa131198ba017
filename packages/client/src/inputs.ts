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

/**
 * Replaces binary `image_url` / `image_urls[i]` with a URL: uploaded to storage when larger than the
 * uploader's threshold (uploads run in parallel, as fal-js's do), else a data URI. Everything else is
 * passed through untouched.
 */
export async function prepareInput<T>(input: T, uploader?: ImageUploader, signal?: AbortSignal): Promise<T> {
  if (!input || typeof input !== "object") return input;
  const encode = (value: unknown) => {
    if (!isBinary(value)) return value;
    return uploader && sizeOf(value) > uploader.threshold ? uploader.upload(value, signal) : toDataUri(value);
  };
  const source = input as Record<string, unknown>;
  const out = { ...source };
  if (isBinary(source.image_url)) out.image_url = await encode(source.image_url);
  if (Array.isArray(source.image_urls) && source.image_urls.some(isBinary))
    out.image_urls = await Promise.all(source.image_urls.map(encode));
  return out as T;
}

/** Binary image data accepted wherever an image URL is (`File` is a `Blob`). */
export type BinaryImage = Blob | Uint8Array | ArrayBuffer;

/**
 * The input of an endpoint as callers may give it: `image_url` and the items of `image_urls` may also be
 * binary, and are sent as base64 data URIs (a third larger than the bytes, inside the JSON body).
 */
export type WithBinaryImages<T> = {
  [K in keyof T]: K extends "image_url" ? T[K] | BinaryImage : K extends "image_urls" ? Array<string | BinaryImage> : T[K];
};

const isBinary = (v: unknown): v is BinaryImage =>
  v instanceof Uint8Array || v instanceof ArrayBuffer || (typeof Blob !== "undefined" && v instanceof Blob);

/** Reads the MIME type from the first bytes, for data without a declared type. */
export function sniffImageType(b: Uint8Array): string {
  const at = (i: number, ...bytes: number[]) => bytes.every((x, j) => b[i + j] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp";
  return "application/octet-stream";
}

/** Bytes → `data:<mime>;base64,...`, with `btoa` in chunks (no Buffer: this runs in browsers and workers too). */
export async function toDataUri(value: BinaryImage): Promise<string> {
  const declared = typeof Blob !== "undefined" && value instanceof Blob ? value.type : "";
  const bytes =
    value instanceof Uint8Array
      ? value
      : new Uint8Array(value instanceof ArrayBuffer ? value : await (value as Blob).arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${declared || sniffImageType(bytes)};base64,${btoa(binary)}`;
}

/** Replaces binary `image_url` / `image_urls[i]` with data URIs; everything else is passed through untouched. */
export async function prepareInput<T>(input: T): Promise<T> {
  if (!input || typeof input !== "object") return input;
  const src = input as Record<string, unknown>;
  const out = { ...src };
  if (isBinary(src.image_url)) out.image_url = await toDataUri(src.image_url);
  if (Array.isArray(src.image_urls) && src.image_urls.some(isBinary))
    out.image_urls = await Promise.all(src.image_urls.map((v) => (isBinary(v) ? toDataUri(v) : v)));
  return out as T;
}

/**
 * Image bytes: their type from the first bytes (a file name or a declared content type can lie; the
 * signature does not), and data URIs. fal accepts an http(s) URL or any `data:` URL for `image_url`.
 */
import { fromBase64, toBase64 } from "./bytes.js";

/** The image types recognised from their signature. */
export type ImageMime = "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif";

/** The usual file extension of each type. */
export const IMAGE_EXTENSIONS: Record<ImageMime, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/avif": "avif",
};

/** The image type from its magic number, or undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): ImageMime | undefined {
  const startsWith = (signature: number[], offset = 0) => signature.every((byte, index) => bytes[offset + index] === byte);
  const ascii = (text: string, offset: number) =>
    startsWith(
      [...text].map((char) => char.charCodeAt(0)),
      offset,
    );
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (ascii("GIF87a", 0) || ascii("GIF89a", 0)) return "image/gif";
  if (ascii("RIFF", 0) && ascii("WEBP", 8)) return "image/webp";
  if (ascii("ftyp", 4) && (ascii("avif", 8) || ascii("avis", 8))) return "image/avif";
  return undefined;
}

/** The image type a MIME type names (`image/jpeg; q=…` → `image/jpeg`, `image/jpg` too), if recognised. */
export function imageMimeOf(mime: string | null | undefined): ImageMime | undefined {
  const base = mime?.split(";")[0]?.trim().toLowerCase();
  if (base === "image/jpg") return "image/jpeg";
  return base && base in IMAGE_EXTENSIONS ? (base as ImageMime) : undefined;
}

/** Bytes → `data:<mime>;base64,…`. */
export function toDataUri(bytes: Uint8Array, mime: string): string {
  return `data:${mime};base64,${toBase64(bytes)}`;
}

/** A `data:` URI decoded (base64 or percent-encoded, scheme matched case-insensitively); undefined otherwise. */
export function decodeDataUri(uri: string): { mime: string; bytes: Uint8Array } | undefined {
  const match = /^data:([^,]*?),(.*)$/is.exec(uri);
  if (!match) return undefined;
  const meta = match[1] ?? "";
  const payload = match[2] ?? "";
  const isBase64 = /;base64$/i.test(meta);
  const mime = ((isBase64 ? meta.slice(0, -";base64".length) : meta).split(";")[0] || "text/plain").toLowerCase();
  try {
    const bytes = isBase64 ? fromBase64(payload) : new TextEncoder().encode(decodeURIComponent(payload));
    return { mime, bytes };
  } catch {
    return undefined;
  }
}

/** True for a string fal can fetch or read as an image source: an http(s) URL or a `data:` URL (any case). */
export function isImageSourceUrl(value: unknown): value is string {
  return typeof value === "string" && /^(https?:\/\/|data:)/i.test(value);
}

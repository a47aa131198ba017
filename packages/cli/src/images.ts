/**
 * Image bytes: recognising their type from the first bytes (a file's name or a server's
 * content type can lie; the signature does not), their dimensions, and data URIs.
 */

export type ImageType = "png" | "jpeg" | "webp" | "gif";

const MIME: Record<ImageType, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };
const EXTENSION: Record<ImageType, string> = { png: "png", jpeg: "jpg", webp: "webp", gif: "gif" };

export const mimeOf = (type: ImageType) => MIME[type];
export const extensionOf = (type: ImageType) => EXTENSION[type];

/** The image type from its magic number, or undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (starts([0xff, 0xd8, 0xff])) return "jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return "gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "webp";
  return undefined;
}

/** The image type a MIME type names (`image/jpeg; q=…` → jpeg). */
export function typeFromMime(mime: string | undefined | null): ImageType | undefined {
  const m = mime?.split(";")[0]?.trim().toLowerCase();
  if (m === "image/png") return "png";
  if (m === "image/jpeg" || m === "image/jpg") return "jpeg";
  if (m === "image/webp") return "webp";
  if (m === "image/gif") return "gif";
  return undefined;
}

export function toDataUri(bytes: Uint8Array, type: ImageType): string {
  return `data:${MIME[type]};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}`;
}

/** Decodes a `data:` URI (base64 or percent-encoded); undefined when it is not one. */
export function decodeDataUri(uri: string): { mime: string; bytes: Uint8Array } | undefined {
  const match = /^data:([^,]*?),(.*)$/s.exec(uri);
  if (!match) return undefined;
  const meta = match[1] ?? "";
  const payload = match[2] ?? "";
  const base64 = /;base64$/i.test(meta);
  const mime = (base64 ? meta.slice(0, -";base64".length) : meta).split(";")[0] || "text/plain";
  const bytes = base64 ? Buffer.from(payload, "base64") : Buffer.from(decodeURIComponent(payload), "latin1");
  return { mime, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** Width and height read from a PNG, JPEG, GIF or WebP header, when the server did not say. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const type = sniffImageType(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (type === "png") return { width: view.getUint32(16), height: view.getUint32(20) };
    if (type === "gif") return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
    if (type === "jpeg") return jpegSize(bytes, view);
    if (type === "webp") return webpSize(view);
  } catch {
    // A truncated header: the size is simply unknown.
  }
  return undefined;
}

function jpegSize(bytes: Uint8Array, view: DataView): { width: number; height: number } | undefined {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] ?? 0;
    // Start-of-frame markers (baseline, progressive, ...) hold the size; DHT/JPG/DAC share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    }
    offset += 2 + view.getUint16(offset + 2);
  }
  return undefined;
}

function webpSize(view: DataView): { width: number; height: number } | undefined {
  const chunk = String.fromCharCode(view.getUint8(12), view.getUint8(13), view.getUint8(14), view.getUint8(15));
  if (chunk === "VP8 ") return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  if (chunk === "VP8L") {
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") {
    const w = view.getUint8(24) | (view.getUint8(25) << 8) | (view.getUint8(26) << 16);
    const h = view.getUint8(27) | (view.getUint8(28) << 8) | (view.getUint8(29) << 16);
    return { width: w + 1, height: h + 1 };
  }
  return undefined;
}

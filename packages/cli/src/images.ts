/**
 * What the CLI needs about images beyond the protocol core (`@kontext-sdk/schema/protocol` has the
 * sniffing, data URIs and extensions): their dimensions, read from the header when the server did not
 * say, and the file extension a saved image gets.
 */
import { IMAGE_EXTENSIONS, type ImageMime, imageMimeOf, sniffImageType } from "@kontext-sdk/schema/protocol";

/**
 * The type a saved image is named after: its bytes first (a server's content type can lie), then the
 * declared types, then the requested `--format`.
 */
export function savedImageType(bytes: Uint8Array, ...declared: (string | null | undefined)[]): ImageMime | undefined {
  const sniffed = sniffImageType(bytes);
  if (sniffed) return sniffed;
  for (const mime of declared) {
    const known = imageMimeOf(mime) ?? imageMimeOf(mime ? `image/${mime}` : undefined);
    if (known) return known;
  }
  return undefined;
}

/** `image/jpeg` → `jpg`; `bin` for bytes nobody recognised. */
export const extensionOf = (type: ImageMime | undefined) => (type ? IMAGE_EXTENSIONS[type] : "bin");

/** Width and height read from a PNG, JPEG, GIF or WebP header, when the server did not say. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const type = sniffImageType(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (type === "image/png") return { width: view.getUint32(16), height: view.getUint32(20) };
    if (type === "image/gif") return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
    if (type === "image/jpeg") return jpegSize(bytes, view);
    if (type === "image/webp") return webpSize(view);
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

/**
 * The generated picture: a diagonal two-colour gradient with a stripe pattern, all chosen
 * from the seed, so the same seed and prompt always give the same bytes.
 */
import { encodeJpeg } from "./jpeg.js";
import { encodePng } from "./png.js";

export type ImageFormat = "png" | "jpeg";

/** Pixel size for an aspect ratio like "16:9": the longest side is `longest` px. */
export function dimensionsFor(aspectRatio: string, longest = 64): { width: number; height: number } {
  const [w, h] = aspectRatio.split(":").map(Number);
  if (!w || !h || !Number.isFinite(w) || !Number.isFinite(h)) return { width: longest, height: longest };
  return w >= h
    ? { width: longest, height: Math.max(1, Math.round((longest * h) / w)) }
    : { width: Math.max(1, Math.round((longest * w) / h)), height: longest };
}

/** mulberry32: a tiny seedable generator, good enough for colours and fault dice. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over UTF-16 code units; stable across runtimes. */
export function hashString(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function renderPixels(width: number, height: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const from = [rand() * 255, rand() * 255, rand() * 255];
  const to = [rand() * 255, rand() * 255, rand() * 255];
  const stripe = 4 + Math.floor(rand() * 12);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / Math.max(1, width - 1) + y / Math.max(1, height - 1)) / 2;
      const shade = Math.floor((x + y) / stripe) % 2 === 0 ? 1 : 0.8;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) rgb[i + c] = Math.round((from[c]! * (1 - t) + to[c]! * t) * shade);
    }
  }
  return rgb;
}

export function renderImage(format: ImageFormat, width: number, height: number, seed: number): Uint8Array {
  const rgb = renderPixels(width, height, seed);
  return format === "png" ? encodePng(width, height, rgb) : encodeJpeg(width, height, rgb);
}

/**
 * What a finished job leaves behind: image files in `--out` and a report on stdout, either
 * lines for a person or one JSON document for a script.
 */
import { constants } from "node:fs";
import { access, mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { KontextImage, KontextOutput } from "@kontext-sdk/schema";
import { decodeDataUri, escapeControl, truncate } from "@kontext-sdk/schema/protocol";
import { OutputError, UsageError } from "./errors.js";
import { extensionOf, imageSize, savedImageType } from "./images.js";
import type { OutputStream } from "./io.js";

export const DEFAULT_OUT_DIR = "kontext-output";

export interface SavedImage {
  /** Where the server said the image is; null when it came inline as a data URI (not worth repeating). */
  url: string | null;
  /** Absolute path of the written file. */
  path: string;
  width: number | null;
  height: number | null;
  content_type: string;
}

export interface SaveOptions {
  requestId: string;
  outDir: string;
  /** The requested output format, the last resort for naming a file whose bytes say nothing. */
  format?: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** Blanks the known secrets in server-chosen text put into an error (`CliIO.redact`). */
  redact?: ((text: string) => string) | undefined;
}

/**
 * Checks `--out` before anything is sent: it must be a directory (or not exist yet, under a directory
 * that does) and be writable. Found only after the job ran, a bad path would lose images already paid
 * for. Creates nothing.
 */
export async function checkOutDir(outDir: string, flag: string, cwd: string): Promise<void> {
  const shown = displayPath(outDir, cwd);
  let existing = outDir;
  for (;;) {
    const info = await stat(existing).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) {
        throw new UsageError(
          existing === outDir
            ? `${flag} ${shown} is a file, not a directory; give a directory for the images (it is created when missing)`
            : `${flag} ${shown} cannot be created: ${displayPath(existing, cwd)} is a file`,
        );
      }
      break;
    }
    // ENOTDIR: a file somewhere up the path, reported by the loop when it reaches it.
    if (info.code !== "ENOENT" && info.code !== "ENOTDIR")
      throw new UsageError(`${flag} ${shown} cannot be used (${info.code ?? info.message})`);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  await access(existing, constants.W_OK).catch(() => {
    throw new UsageError(`${flag} ${shown} is not writable (${displayPath(existing, cwd)} refuses new files)`);
  });
}

/** Downloads (or decodes) every image and writes it as `<requestId>-<index>.<ext>`. */
export async function saveImages(images: readonly KontextImage[], options: SaveOptions): Promise<SavedImage[]> {
  await mkdir(options.outDir, { recursive: true });
  return Promise.all(images.map((image, index) => saveImage(image, index, options)));
}

async function saveImage(image: KontextImage, index: number, options: SaveOptions): Promise<SavedImage> {
  const { bytes, mime } = await imageBytes(image, index, options);
  const type = savedImageType(bytes, image.content_type, mime, options.format);
  const ext = extensionOf(type);
  // Request ids come from the server; keep only characters that are safe in a file name.
  const safeId = options.requestId.replace(/[^A-Za-z0-9._-]/g, "_");
  const path = resolve(options.outDir, `${safeId}-${index}.${ext}`);
  await writeFile(path, bytes);
  const size = image.width && image.height ? { width: image.width, height: image.height } : imageSize(bytes);
  return {
    url: image.url.startsWith("data:") ? null : image.url,
    path,
    width: size?.width ?? null,
    height: size?.height ?? null,
    content_type: type ?? image.content_type ?? mime ?? "application/octet-stream",
  };
}

async function imageBytes(
  image: KontextImage,
  index: number,
  options: SaveOptions,
): Promise<{ bytes: Uint8Array; mime?: string }> {
  const inline = decodeDataUri(image.url);
  if (inline) return inline;
  let url: URL;
  try {
    url = new URL(image.url);
  } catch {
    // Redacted before the cut, like every server-chosen text put in a line (see errors.ts).
    const shown = options.redact ? options.redact(image.url) : image.url;
    throw new OutputError(`image ${index} has an invalid URL: ${escapeControl(truncate(shown, 120))}`);
  }
  // A server-chosen URL is followed only over http(s): no file:, no other scheme.
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutputError(`image ${index} has a ${url.protocol} URL; only http(s) and data URIs are downloaded`);
  }
  const init: RequestInit = options.signal ? { signal: options.signal } : {};
  const response = await options.fetch(url, init);
  if (!response.ok) throw new OutputError(`could not download image ${index}: HTTP ${response.status} from ${url.origin}`);
  const mime = response.headers.get("content-type") ?? undefined;
  return { bytes: new Uint8Array(await response.arrayBuffer()), ...(mime ? { mime } : {}) };
}

/** The document `--json` prints: enough to find the files and to resume or reproduce the job. */
export function resultDocument(args: { requestId: string; endpoint: string; output: KontextOutput; images: SavedImage[] }) {
  const { images: _, ...rest } = args.output;
  return { requestId: args.requestId, endpoint: args.endpoint, images: args.images, ...rest };
}

/**
 * A path as a person wants to read it: relative when it is under the working directory, with control
 * characters escaped (a file or directory name can hold terminal escapes; printing them raw would let a
 * name rewrite the screen).
 */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return escapeControl(rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path);
}

/** The lines a person sees on stdout after a job: one per file, then the seed. */
export function printResult(stdout: OutputStream, images: SavedImage[], output: KontextOutput, cwd: string): void {
  if (images.length === 0) {
    stdout.write("The job finished without images.\n");
  }
  for (const image of images) {
    const size = image.width && image.height ? `  ${image.width}x${image.height}` : "";
    stdout.write(`${displayPath(image.path, cwd)}${size}\n`);
  }
  const flagged = output.has_nsfw_concepts?.filter(Boolean).length ?? 0;
  const notes = [`seed ${output.seed}`];
  if (flagged) notes.push(`${flagged} image${flagged === 1 ? "" : "s"} flagged by the safety checker`);
  stdout.write(`${notes.join(", ")}\n`);
}

export function printJson(stdout: OutputStream, value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

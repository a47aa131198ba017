/**
 * Local image files on their way into an input. A file larger than the client's upload threshold goes to
 * fal's storage (or the mock's) as a file-backed `Blob`, so a 200 MB photo is never read whole into
 * memory, let alone base64-encoded; the input then carries the short URL. Smaller files, and every file
 * when no storage host is known (a gateway without `--storage-base-url`), travel inline as data URIs.
 */
import { openAsBlob } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { DEFAULT_UPLOAD_THRESHOLD, type KontextClient } from "@kontext-sdk/client";
import { escapeControl } from "@kontext-sdk/schema/protocol";
import type { CliIO } from "./io.js";

/** A local image file named on the command line, checked (it exists, it is an image) but not yet read. */
export class LocalImageFile {
  constructor(
    readonly path: string,
    readonly size: number,
    readonly type: string,
    /** For messages: the name as typed, control characters escaped. */
    readonly shown: string,
  ) {}

  /** What the input validator sees in its place: any https URL passes the image-source rule. */
  get placeholder(): string {
    return `https://upload.invalid/${encodeURIComponent(basename(this.path))}`;
  }
}

/** Where local images can go: an upload-capable client, or inline only. */
export interface ImageDestination {
  client: KontextClient;
  /** False when no storage host is known: files then go inline. */
  canUpload: boolean;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The input with every LocalImageFile replaced by an uploaded URL or a data URI. */
export async function resolveLocalImages(
  input: Record<string, unknown>,
  destination: ImageDestination,
  io: CliIO,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const place = (value: unknown) => (value instanceof LocalImageFile ? placeImage(value, destination, io, signal) : value);
  const out = { ...input };
  if (input.image_url instanceof LocalImageFile) out.image_url = await place(input.image_url);
  // One after another: progress lines stay readable, and a failure stops before more bytes are sent.
  if (Array.isArray(input.image_urls)) {
    const placed: unknown[] = [];
    for (const item of input.image_urls) placed.push(await place(item));
    out.image_urls = placed;
  }
  return out;
}

/** The input as the validator should see it: local files stand in as URLs (the upload gives them one). */
export function withPlaceholders(input: Record<string, unknown>): Record<string, unknown> {
  const stand = (value: unknown) => (value instanceof LocalImageFile ? value.placeholder : value);
  const out = { ...input };
  if ("image_url" in input) out.image_url = stand(input.image_url);
  if (Array.isArray(input.image_urls)) out.image_urls = input.image_urls.map(stand);
  return out;
}

async function placeImage(file: LocalImageFile, destination: ImageDestination, io: CliIO, signal?: AbortSignal) {
  if (destination.canUpload && file.size > DEFAULT_UPLOAD_THRESHOLD) {
    return uploadFile(file, destination.client, io, signal);
  }
  if (file.size > DEFAULT_UPLOAD_THRESHOLD) {
    io.stderr.write(
      `warning: ${file.shown} is ${megabytes(file.size)} and no storage host is set (--storage-base-url), so it is sent inline as a data URI, a third larger again.\n`,
    );
  }
  // Read once; Node's native base64 writes the text straight from the bytes.
  const bytes = await readFile(file.path);
  return `data:${file.type};base64,${bytes.toString("base64")}`;
}

/** Uploads a file from disk, with a progress line, and returns its URL. */
export async function uploadFile(file: LocalImageFile, client: KontextClient, io: CliIO, signal?: AbortSignal) {
  const blob = await openAsBlob(file.path, { type: file.type });
  const name = escapeControl(basename(file.path));
  const live = Boolean(io.stderr.isTTY);
  io.stderr.write(`uploading ${name} (${megabytes(file.size)})${live ? "" : "\n"}`);
  const url = await client.storage.upload(blob, {
    fileName: basename(file.path),
    ...(signal ? { signal } : {}),
    onProgress: ({ uploadedBytes, totalBytes }) => {
      if (live) io.stderr.write(`\ruploading ${name}: ${megabytes(uploadedBytes)} of ${megabytes(totalBytes)}`);
    },
  });
  io.stderr.write(`${live ? "\r" : ""}uploaded ${name}: ${url}\n`);
  return url;
}

/**
 * From command-line flags to an endpoint and its input: the flag ↔ field table, the choice of
 * endpoint from the command and `--tier`, local image files checked (uploaded or inlined later, see
 * uploads.ts), and the
 * schema package's validation with its issues renamed back to the flags a person typed.
 */
import { open, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type EndpointId,
  type EndpointKind,
  type EndpointTier,
  endpoints,
  type ValidationIssue,
  validateInput,
} from "@kontext-sdk/schema";
import { escapeControl, IMAGE_EXTENSIONS, sniffImageType } from "@kontext-sdk/schema/protocol";
import { UsageError } from "./errors.js";
import { LocalImageFile, withPlaceholders } from "./uploads.js";

/** The flags shared by generate, edit and multi, as commander hands them over (raw strings). */
export interface ImageFlags {
  aspectRatio?: string;
  numImages?: string;
  seed?: string;
  guidance?: string;
  format?: string;
  safety?: string;
  enhancePrompt?: boolean;
  tier?: EndpointTier;
  image?: string[];
}

/** Which input field each flag fills; the reverse of this table names flags in error messages. */
const FIELD_FLAGS: Record<string, string> = {
  prompt: "<prompt>",
  aspect_ratio: "--aspect-ratio",
  num_images: "--num-images",
  seed: "--seed",
  guidance_scale: "--guidance",
  output_format: "--format",
  safety_tolerance: "--safety",
  enhance_prompt: "--enhance-prompt",
  image_url: "--image",
  image_urls: "--image",
};

/** The tier each command uses when `--tier` is not given: the endpoints the project started from. */
export const DEFAULT_TIER: Record<EndpointKind, EndpointTier> = { "text-to-image": "pro", edit: "max", multi: "max" };

/** The endpoint id for a command's kind and tier, read from the schema's registry. */
export function endpointFor(kind: EndpointKind, tier: EndpointTier = DEFAULT_TIER[kind]): EndpointId {
  const match = Object.values(endpoints).find((e) => e.kind === kind && e.tier === tier);
  if (!match) throw new UsageError(`no ${tier} endpoint for ${kind}`);
  return match.id;
}

export interface BuiltInput {
  endpoint: EndpointId;
  input: Record<string, unknown>;
}

/**
 * Builds and validates the input. Throws UsageError for anything wrong, before any connection
 * is opened, so a bad command line never costs a request.
 */
export async function buildInput(kind: EndpointKind, prompt: string, flags: ImageFlags, cwd: string): Promise<BuiltInput> {
  const endpoint = endpointFor(kind, flags.tier);
  const input: Record<string, unknown> = { prompt };
  if (flags.aspectRatio !== undefined) input.aspect_ratio = flags.aspectRatio;
  if (flags.numImages !== undefined) input.num_images = numberish(flags.numImages);
  if (flags.seed !== undefined) input.seed = numberish(flags.seed);
  if (flags.guidance !== undefined) input.guidance_scale = numberish(flags.guidance);
  // "jpg" is what people type; the API only knows "jpeg".
  if (flags.format !== undefined) input.output_format = flags.format.toLowerCase() === "jpg" ? "jpeg" : flags.format;
  if (flags.safety !== undefined) input.safety_tolerance = flags.safety;
  if (flags.enhancePrompt) input.enhance_prompt = true;

  const images = flags.image ?? [];
  if (kind === "text-to-image" && images.length > 0) {
    throw new UsageError("--image is for edit and multi; generate makes an image from the prompt alone");
  }
  if (kind === "edit") {
    if (images.length !== 1) {
      throw new UsageError(
        images.length === 0
          ? "--image is required: the image to edit (a file path or an http(s) URL)"
          : `edit takes one --image (got ${images.length}); use "kontext multi" to combine several`,
      );
    }
    input.image_url = await imageSource(images[0]!, "--image", cwd);
  }
  if (kind === "multi") {
    if (images.length === 0) throw new UsageError("--image is required: give it once per input image");
    input.image_urls = await Promise.all(
      images.map((image, i) => imageSource(image, images.length > 1 ? `--image #${i + 1}` : "--image", cwd)),
    );
  }

  const checked = validateInput(endpoint, withPlaceholders(input));
  if (!checked.ok) {
    throw new UsageError("invalid input", checked.issues.map(issueToFlagMessage));
  }
  return { endpoint, input };
}

/** `num_images must be at most 4 (got 5)` → `--num-images must be at most 4 (got 5)`. */
export function issueToFlagMessage(issue: ValidationIssue): string {
  const [, top = "", index] = /^([^.[]*)(?:\[(\d+)\])?/.exec(issue.field) ?? [];
  const flag = FIELD_FLAGS[top];
  if (!flag) return issue.message;
  const label = index !== undefined ? `${flag} #${Number(index) + 1}` : flag;
  const rest = issue.message.startsWith(`${issue.field} `) ? issue.message.slice(issue.field.length + 1) : issue.message;
  return `${label} ${rest}`;
}

/**
 * A number when the text is one, the text itself otherwise, so that the schema's validator (not
 * a second set of rules here) reports "must be an integer (got "abc")".
 */
export function numberish(text: string): number | string {
  const t = text.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : text;
}

/** What `--image` takes, for messages that say what to pass instead. */
const IMAGE_FLAG_HELP = "pass an image file (PNG, JPEG, WebP, GIF or AVIF), an http(s) URL or a data: URL";

/**
 * What an `--image` value becomes in the input: http(s) URLs and data URLs as they are, local files
 * (or file: URLs) checked and kept as a LocalImageFile, read only when they are uploaded or inlined.
 */
export async function imageSource(value: string, flag: string, cwd: string): Promise<string | LocalImageFile> {
  if (/^https?:\/\//i.test(value) || /^data:/i.test(value)) return value;
  // Names come from the command line and may hold terminal escapes: never echo them raw.
  const shown = escapeControl(value);
  let path: string;
  if (/^file:/i.test(value)) {
    path = fileURLToPath(value);
  } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(value)) {
    throw new UsageError(`${flag} ${shown} is not something fal can read; ${IMAGE_FLAG_HELP}`);
  } else {
    path = isAbsolute(value) ? value : resolve(cwd, value);
  }
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`${flag}: no such file: ${shown}; ${IMAGE_FLAG_HELP}`);
  if (!info.isFile()) throw new UsageError(`${flag}: not a file: ${shown}`);
  const type = sniffImageType(await firstBytes(path));
  if (!type)
    throw new UsageError(`${flag}: ${shown} is not an image (its first bytes are not ${KNOWN_TYPES}); ${IMAGE_FLAG_HELP}`);
  return new LocalImageFile(path, info.size, type, shown);
}

const KNOWN_TYPES = Object.values(IMAGE_EXTENSIONS)
  .map((ext) => ext.toUpperCase())
  .join(", ");

/** The first bytes of a file, enough to recognise an image's signature. */
async function firstBytes(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const head = new Uint8Array(32);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

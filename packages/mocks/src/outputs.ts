/**
 * Deterministic outputs: the same seed and prompt give the same images, timings and bytes.
 * Without a seed one is drawn from the prompt and reported, as fal reports the seed it used.
 */
import type { EndpointId, KontextOutput } from "@kontext-sdk/schema";
import { endpoints, INPUT_DEFAULTS } from "@kontext-sdk/schema";
import { toDataUri } from "@kontext-sdk/schema/protocol";
import { dimensionsFor, hashString, type ImageFormat, renderImage } from "./images/picture.js";

/** The fields of a validated input the simulator reads. */
export interface GenerationInput {
  prompt: string;
  seed?: number;
  num_images?: number;
  output_format?: ImageFormat;
  aspect_ratio?: string;
  sync_mode?: boolean;
}

export interface GeneratedFile {
  bytes: Uint8Array;
  contentType: string;
  fileName: string;
}

export interface Generation {
  /** The output without URLs filled in; `images[i].url` is set by `outputFor`. */
  seed: number;
  readonly files: GeneratedFile[];
  width: number;
  height: number;
  format: ImageFormat;
  inferenceTime: number;
  prompt: string;
  syncMode: boolean;
}

/** Seeds fal draws are non-negative 31-bit integers; stay in that range. */
export const seedFromPrompt = (prompt: string) => hashString(prompt) & 0x7fffffff;

export function generate(endpoint: EndpointId, input: GenerationInput): Generation {
  const seed = input.seed ?? seedFromPrompt(input.prompt);
  const count = input.num_images ?? INPUT_DEFAULTS.num_images;
  const format = input.output_format ?? INPUT_DEFAULTS.output_format;
  // Edit endpoints have no default ratio (the output follows the input image, which the mock never downloads): square.
  const ratio =
    input.aspect_ratio ?? (endpoints[endpoint].kind === "text-to-image" ? INPUT_DEFAULTS.text_to_image_aspect_ratio : "1:1");
  const { width, height } = dimensionsFor(ratio);
  const promptHash = hashString(input.prompt);
  // Pictures are encoded on first use: a status poll that only needs the timings stays cheap.
  let files: GeneratedFile[] | undefined;
  const render = () =>
    Array.from({ length: count }, (_, index) => ({
      bytes: renderImage(format, width, height, hashString(`${seed}:${index}`, promptHash)),
      contentType: format === "png" ? "image/png" : "image/jpeg",
      fileName: `${index}.${format}`,
    }));
  // A plausible inference time between 0.8 and 2.8 seconds, fixed by the seed.
  const inferenceTime = Math.round((0.8 + (hashString(String(seed), promptHash) % 2000) / 1000) * 1000) / 1000;
  return {
    seed,
    get files() {
      files ??= render();
      return files;
    },
    width,
    height,
    format,
    inferenceTime,
    prompt: input.prompt,
    syncMode: input.sync_mode === true,
  };
}

/** The output body; `fileUrl(i)` gives the i-th file's URL unless sync_mode asks for data URIs. */
export function outputFor(generation: Generation, fileUrl: (index: number, fileName: string) => string): KontextOutput {
  return {
    images: generation.files.map((file, index) => ({
      url: generation.syncMode ? toDataUri(file.bytes, file.contentType) : fileUrl(index, file.fileName),
      content_type: file.contentType,
      file_name: file.fileName,
      file_size: file.bytes.length,
      width: generation.width,
      height: generation.height,
    })),
    timings: { inference: generation.inferenceTime },
    seed: generation.seed,
    has_nsfw_concepts: generation.files.map(() => false),
    prompt: generation.prompt,
  };
}

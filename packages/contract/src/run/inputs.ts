/** The small inputs the runner sends: one image each, 16×16 PNGs inline unless an image URL is given. */
import { type EndpointId, endpoints as registry } from "@kontext-sdk/schema";
import type { RunContext } from "./context.js";

/** 16×16 solid PNGs: valid images any server can decode, small enough to send inline. */
const PNG_A =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mM4EaBBEmIY1TCqYfhqAAC/xkAQBZlNgAAAAABJRU5ErkJggg==";
const PNG_B =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mPQCDhBEmIY1TCqYfhqAAB/t0AQQ7an9gAAAABJRU5ErkJggg==";

export type JobInput = Record<string, unknown>;

export function inputFor(context: RunContext, endpoint: EndpointId, prompt: string): JobInput {
  const input: JobInput = { prompt, num_images: 1, output_format: "png", seed: 7 };
  const kind = registry[endpoint].kind;
  if (kind === "edit") input.image_url = context.imageUrl ?? PNG_A;
  if (kind === "multi") input.image_urls = context.imageUrl ? [context.imageUrl] : [PNG_A, PNG_B];
  if (kind === "text-to-image") input.aspect_ratio = "1:1";
  return input;
}

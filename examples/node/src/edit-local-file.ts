// Edit a local image: bytes (Uint8Array, Blob, File, ArrayBuffer) are sent as a data URI.
//   pnpm tsx src/edit-local-file.ts ./photo.png "make it night time"
import { readFile } from "node:fs/promises";
import { exampleClient } from "./config.js";

const [path, prompt = "make it night time"] = process.argv.slice(2);
if (!path) throw new Error("usage: edit-local-file.ts <image path> [prompt]");

const { data, requestId } = await exampleClient().subscribe("fal-ai/flux-pro/kontext/max", {
  prompt,
  image_url: await readFile(path),
  output_format: "png",
});
console.log(`edited ${requestId}: ${data.images.map((image) => image.url).join(", ")}`);

// Generate an image and show the job's progress while it waits in the queue and runs.
//   pnpm tsx src/subscribe-with-progress.ts "a lighthouse at dawn"
import { exampleClient } from "./config.js";

const client = exampleClient();
const prompt = process.argv[2] ?? "a lighthouse at dawn, watercolor";

const { data, requestId } = await client.subscribe(
  "fal-ai/flux-pro/kontext/text-to-image",
  { prompt, aspect_ratio: "16:9", num_images: 1 },
  {
    logs: true,
    onEnqueue: (id) => console.log(`queued ${id}`),
    onQueueUpdate: (status) => {
      if (status.status === "IN_QUEUE") console.log(`IN_QUEUE position ${status.queue_position}`);
      else if (status.status === "IN_PROGRESS") console.log(`IN_PROGRESS ${status.logs?.at(-1)?.message ?? ""}`);
      else console.log("COMPLETED");
    },
  },
);
console.log(`done ${requestId}`);
for (const image of data.images) console.log(`image ${image.url} ${image.width}x${image.height}`);

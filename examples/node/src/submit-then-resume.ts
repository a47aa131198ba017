// Submit a job in one place and pick up its result in another (a worker, a later request, a cron job):
// only the request id needs to be kept.
import { exampleClient } from "./config.js";

const endpoint = "fal-ai/flux-pro/kontext/max/text-to-image";

// 1. Submit and store the id (here: just a variable).
const submitted = await exampleClient().submit(endpoint, { prompt: "a paper boat on a puddle", seed: 7 });
console.log(`submitted ${submitted.requestId} (queue position ${submitted.queuePosition})`);

// 2. Later, anywhere: a fresh client resumes by id. Poll the status until COMPLETED, then fetch the result.
const later = exampleClient();
for (;;) {
  const status = await later.status(endpoint, submitted.requestId);
  console.log(`status ${status.status}`);
  if (status.status === "COMPLETED") break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const { data } = await later.result(endpoint, submitted.requestId);
console.log(`resumed ${submitted.requestId}: ${data.images.length} image(s), seed ${data.seed}`);

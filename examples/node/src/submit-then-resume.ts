// Submit a job in one place and pick up its result in another (a worker, a later request, a cron job):
// only the request id needs to be kept.
import { exampleClient } from "./config.js";

const endpoint = "fal-ai/flux-pro/kontext/max/text-to-image";

// 1. Submit and store the id (here: just a variable).
const submitted = await exampleClient().submit(endpoint, { prompt: "a paper boat on a puddle", seed: 7 });
console.log(`submitted ${submitted.requestId} (queue position ${submitted.queuePosition})`);

// 2. Later, anywhere: a fresh client resumes the job by id. The job handle follows it (the status stream,
//    polling if the stream breaks; a 404 or 401 ends it with a typed error) and fetches the result once.
const job = exampleClient().job(endpoint, submitted.requestId, { logs: true });
for await (const status of job.statuses()) console.log(`status ${status.status}`);
const { data } = await job.result();
console.log(`resumed ${submitted.requestId}: ${data.images.length} image(s), seed ${data.seed}`);

// Cancel a job: locally with an AbortSignal (stops waiting) and remotely with client.cancel (stops the job).
import { exampleClient } from "./config.js";

const client = exampleClient();
const endpoint = "fal-ai/flux-pro/kontext/text-to-image";

const { requestId } = await client.submit(endpoint, { prompt: "a very slow sunset" });
const outcome = await client.cancel(endpoint, requestId);
console.log(`cancel ${requestId}: ${outcome.status}`);

// With subscribe, abort the signal to stop waiting; cancel remotely if the job should stop too.
const controller = new AbortController();
const waiting = client.subscribe(
  endpoint,
  { prompt: "another slow sunset" },
  {
    signal: controller.signal,
    onEnqueue: (id) => {
      controller.abort();
      void client.cancel(endpoint, id).then((r) => console.log(`cancel ${id}: ${r.status}`));
    },
  },
);
await waiting.catch((error: unknown) => console.log(`subscribe stopped: ${(error as Error).name}`));

// @fal-ai/client's subscribe call, the same job.
import { createFalClient } from "@fal-ai/client";

const fal = createFalClient({ credentials: () => "key" });

export async function generate(prompt: string): Promise<string | undefined> {
  const { data } = await fal.subscribe("fal-ai/flux-pro/kontext/text-to-image", {
    input: { prompt },
    onQueueUpdate: (status) => console.log(status.status),
  });
  return data.images[0]?.url;
}

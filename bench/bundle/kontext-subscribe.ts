// Our client's subscribe call without the compiled validators (createKontextClientLite).
import { createKontextClientLite } from "@kontext-sdk/client";

const client = createKontextClientLite({ credentials: () => "key" });

export async function generate(prompt: string): Promise<string | undefined> {
  const { data } = await client.subscribe(
    "fal-ai/flux-pro/kontext/text-to-image",
    { prompt },
    { onQueueUpdate: (status) => console.log(status.status) },
  );
  return data.images[0]?.url;
}

// Our client's subscribe call with input validation on (createKontextClient: the compiled validators).
import { createKontextClient } from "@kontext-sdk/client";

const client = createKontextClient({ credentials: () => "key" });

export async function generate(prompt: string): Promise<string | undefined> {
  const { data } = await client.subscribe(
    "fal-ai/flux-pro/kontext/text-to-image",
    { prompt },
    { onQueueUpdate: (status) => console.log(status.status) },
  );
  return data.images[0]?.url;
}

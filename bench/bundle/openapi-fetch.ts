// openapi-fetch alone (the typed fetch wrapper our client builds on), one call.
import createClient from "openapi-fetch";

const client = createClient({ baseUrl: "https://queue.fal.run", headers: { Authorization: "Key key" } });

export async function status(requestId: string): Promise<unknown> {
  const { data } = await client.GET(`/fal-ai/flux-pro/requests/${requestId}/status` as never);
  return data;
}

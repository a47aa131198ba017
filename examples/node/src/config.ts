// Every example talks to fal by default; CI points them at the mock server through these two variables.
//   FAL_KEY            your fal key (or a gateway token with KONTEXT_AUTH_SCHEME=Bearer)
//   KONTEXT_BASE_URL   queue host, default https://queue.fal.run (e.g. http://127.0.0.1:4010 for `kontext mock`)
import { createKontextClient, type KontextClientOptions } from "@kontext-sdk/client";

export const baseUrl = process.env.KONTEXT_BASE_URL;

export function exampleClient(options: KontextClientOptions = {}) {
  return createKontextClient({
    ...(baseUrl ? { baseUrl, syncBaseUrl: `${baseUrl}/sync` } : {}),
    authScheme: process.env.KONTEXT_AUTH_SCHEME === "Bearer" ? "Bearer" : "Key",
    ...options,
  });
}

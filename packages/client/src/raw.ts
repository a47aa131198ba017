/**
 * `createKontextRawClient`: the typed openapi-fetch client over the queue spec's `paths`, on the client's
 * transport (auth, proxy, retries, redaction). Its own module and entry point, so bundles that only run
 * jobs leave openapi-fetch out.
 */
import type { paths } from "@kontext-sdk/schema";
import createClient from "openapi-fetch";
import { build, QUEUE_HOST } from "./client.js";
import type { KontextClientOptions, KontextRawClient } from "./types.js";

/** openapi-fetch over the spec's `paths`; inputs are not checked here (openapi-fetch's types do that). */
export function createKontextRawClient(options: KontextClientOptions = {}): KontextRawClient {
  const [, send] = build({ ...options, validate: false });
  return createClient<paths>({
    baseUrl: options.baseUrl ?? QUEUE_HOST,
    // openapi-fetch's Request goes through the same transport (auth, proxy, retries); every final answer,
    // error or not, is handed back for openapi-fetch to read.
    fetch: async (request) => {
      const body = /^(GET|HEAD)$/.test(request.method) ? undefined : await request.text();
      const call = {
        method: request.method,
        url: request.url,
        body,
        headers: request.headers,
        signal: request.signal,
        once: request.method === "POST",
      };
      return (await send(call, "raw"))[1];
    },
  });
}

/**
 * Synchronous runs (`fal.run`): one POST that answers with the output. fal never retries them and bills a
 * result whose answer was lost, so neither does the client, except when the connection was refused and
 * nothing can have run.
 */
import { type EndpointId, type OutputOf, SYNC_BASE_URL } from "@kontext-sdk/schema";
import { FAL_HEADERS, joinUrl } from "@kontext-sdk/schema/protocol";
import { customHostRefusal } from "./errors.js";
import type { Send } from "./http.js";
import { bounded } from "./signals.js";
import { type BodyOptions, platformHeaders, prepareBody } from "./submit.js";
import type { KontextClientOptions, KontextInput, KontextResult, RunOptions } from "./types.js";

/** fal's sync host (the spec's `SYNC_BASE_URL`). */
export const SYNC_HOST: string = SYNC_BASE_URL;

export type Run = <E extends EndpointId>(endpoint: E, input: KontextInput<E>, options?: RunOptions) => Promise<KontextResult<E>>;

/**
 * `syncBase` is undefined when the queue host is a custom one and no sync host was given: fal's sync host
 * cannot be assumed then (a gateway's token must not travel to fal.run), so `run()` refuses before any
 * request. The spec gives no rule for deriving a gateway's sync host, so none is guessed.
 */
export function createRun(
  send: Send,
  syncBase: string | undefined,
  options: KontextClientOptions,
  bodyOptions: BodyOptions,
): Run {
  return (endpoint, input, runOptions = {}) =>
    bounded(runOptions.signal, runOptions.timeout, async (signal) => {
      if (!syncBase) {
        throw customHostRefusal("run()", "syncBaseUrl", options.baseUrl, SYNC_HOST, ", or use subscribe()");
      }
      const headers = platformHeaders(runOptions);
      const body = await prepareBody(endpoint, input, bodyOptions, signal);
      const call = {
        method: "POST",
        url: joinUrl(syncBase, `/${endpoint}`),
        body,
        headers,
        signal,
        once: true,
      };
      const [data, response] = await send(call);
      return { data: data as OutputOf<typeof endpoint>, requestId: response.headers.get(FAL_HEADERS.requestId) ?? "" };
    });
}

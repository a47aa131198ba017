/** `mock.fetch`: the handler behind a `fetch` signature, with fetch's abort and connection-reset behaviour. */
import type { MockHandler } from "./mock.js";

/** Marks a response as "drop the connection"; adapters turn it into their own kind of reset. */
export const isConnectionReset = (response: Response) => response.type === "error";

export function fetchFor(handler: MockHandler): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (signal?.aborted) throw signal.reason;
    const response = await raceAbort(handler(request), signal);
    if (isConnectionReset(response)) {
      // What undici throws when the peer resets: a TypeError whose cause carries the code.
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) });
    }
    if (!signal || !response.body) return response;
    // Aborting after the headers arrived must still break the body, as fetch does.
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), { signal });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }) as typeof fetch;
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

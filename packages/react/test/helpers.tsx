import { createKontextClient, type KontextClient, type KontextClientOptions } from "@kontext-sdk/client";
import { createKontextMock, createManualClock, type KontextMockOptions } from "@kontext-sdk/mocks";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { KontextProvider } from "../src/index.js";

export const T2I = "fal-ai/flux-pro/kontext/text-to-image" as const;
export const STEP = 100;

/**
 * A mock on a manual clock (the job moves only when the test advances it), a client that talks to it through
 * `mock.fetch`, and a wrapper with both providers.
 */
export function setup(
  options: {
    mock?: KontextMockOptions;
    client?: Partial<KontextClientOptions>;
    fetch?: (mock: typeof fetch) => typeof fetch;
  } = {},
) {
  const clock = createManualClock();
  const mock = createKontextMock({ clock, timeline: { queueSteps: 3, progressSteps: 3, stepMs: STEP }, ...options.mock });
  const client: KontextClient = createKontextClient({
    credentials: "test-key",
    // jsdom looks like a browser to the client; a fake key against an in-memory mock is fine.
    dangerouslyAllowBrowser: true,
    fetch: options.fetch ? options.fetch(mock.fetch) : mock.fetch,
    retry: false,
    ...options.client,
  });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Number.POSITIVE_INFINITY } } });
  const wrapper = ({ children }: { children?: ReactNode }) => (
    <QueryClientProvider client={queryClient}>
      <KontextProvider client={client}>{children}</KontextProvider>
    </QueryClientProvider>
  );
  const calls = (method: string, pathEnd: string | RegExp) =>
    mock.requests.filter(
      (r) => r.method === method && (typeof pathEnd === "string" ? r.path.endsWith(pathEnd) : pathEnd.test(r.path)),
    );
  return { clock, mock, client, queryClient, wrapper, calls };
}

/** A fetch wrapper that holds every submit (POST) until `release()`, to look at the "submitting" state. */
export function holdSubmits() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const wrap =
    (inner: typeof fetch): typeof fetch =>
    async (input, init) => {
      const method = init?.method ?? (input instanceof Request ? input.method : "GET");
      if (method === "POST") await gate;
      return inner(input, init);
    };
  return { wrap, release: () => release() };
}

import { createKontextClient } from "@kontext-sdk/client";
import { createKontextMock, createManualClock } from "@kontext-sdk/mocks";
import { kontextHandlers } from "@kontext-sdk/mocks/msw";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import { setupServer } from "msw/node";
import type { ReactNode } from "react";
import { afterAll, beforeAll, expect, it } from "vitest";
import { KontextProvider, useKontext, useKontextRequest } from "../src/index.js";

// The same hooks with nothing injected: the client uses the global fetch against fal's real hosts,
// and MSW answers in fal's place.
const clock = createManualClock();
const mock = createKontextMock({ clock, timeline: { queueSteps: 1, progressSteps: 1, stepMs: 100 } });
const server = setupServer(...kontextHandlers(mock));
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const client = createKontextClient({ credentials: () => "short-lived-token", retry: false });
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
const wrapper = ({ children }: { children?: ReactNode }) => (
  <QueryClientProvider client={queryClient}>
    <KontextProvider client={client}>{children}</KontextProvider>
  </QueryClientProvider>
);

it("generates and resumes through MSW handlers on https://queue.fal.run", async () => {
  const { result } = renderHook(
    () => {
      const k = useKontext("fal-ai/flux-pro/kontext/max/text-to-image");
      return { k, resumed: useKontextRequest("fal-ai/flux-pro/kontext/max/text-to-image", k.requestId) };
    },
    { wrapper },
  );
  act(() => result.current.k.submit({ prompt: "via msw" }));
  await waitFor(() => expect(result.current.k.status).toBe("IN_QUEUE"));
  act(() => clock.advance(1_000));
  await waitFor(() => expect(result.current.k.status).toBe("COMPLETED"));
  expect(result.current.k.images[0]?.url).toMatch(/^https:\/\/queue\.fal\.run\//);
  // The finished result went into the cache, so the resumed view has it too.
  await waitFor(() => expect(result.current.resumed.status).toBe("COMPLETED"));
  expect(result.current.resumed.data).toEqual(result.current.k.data);
  expect(mock.requests[0]).toMatchObject({ method: "POST", path: "/fal-ai/flux-pro/kontext/max/text-to-image" });
});

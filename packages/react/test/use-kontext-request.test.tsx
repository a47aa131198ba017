import { createKontextClient, KontextApiError } from "@kontext-sdk/client";
import { dehydrate, HydrationBoundary, QueryClient } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { kontextQueryKeys, kontextQueryOptions, useKontextRequest } from "../src/index.js";
import { STEP, setup, T2I } from "./helpers.js";

const input = { prompt: "a lighthouse at dusk", num_images: 1 };

describe("useKontextRequest", () => {
  it("resumes a known request id: status until done, then the result", async () => {
    const { client, clock, wrapper, calls, queryClient } = setup();
    const { requestId } = await client.submit(T2I, input);
    const { result } = renderHook(() => useKontextRequest(T2I, requestId, { pollInterval: 5 }), { wrapper });
    expect(result.current.status).toBe("pending");

    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    expect(result.current.queuePosition).toBe(2);
    act(() => clock.advance(3 * STEP));
    await waitFor(() => expect(result.current.status).toBe("IN_PROGRESS"));
    await waitFor(() => expect(result.current.logs).toHaveLength(1));
    act(() => clock.advance(STEP));
    await waitFor(() => expect(result.current.logs).toHaveLength(2));
    expect(calls("GET", `/requests/${requestId}`)).toHaveLength(0);

    act(() => clock.advance(10 * STEP));
    await waitFor(() => expect(result.current.status).toBe("COMPLETED"));
    expect(result.current.images).toHaveLength(1);
    expect(result.current.data?.images[0]?.url).toMatch(/^https?:|^data:/);
    expect(result.current.requestId).toBe(requestId);
    expect(calls("GET", `/requests/${requestId}`)).toHaveLength(1);
    // Both halves are cached under the exported keys.
    expect(queryClient.getQueryData(kontextQueryKeys.status(T2I, requestId))).toMatchObject({ status: "COMPLETED" });
    expect(queryClient.getQueryData(kontextQueryKeys.result(T2I, requestId))).toMatchObject({ requestId });
  });

  it("an unknown id shows the error and asks nothing after it", async () => {
    const { wrapper, mock } = setup();
    const { result } = renderHook(() => useKontextRequest(T2I, "no-such-request", { mode: "poll", pollInterval: 20 }), {
      wrapper,
    });
    await waitFor(() => expect(result.current.status).toBe("error"));
    const error = result.current.error as KontextApiError;
    expect(error).toBeInstanceOf(KontextApiError);
    expect(error.status).toBe(404);
    // A typed not-found that names fal's retention rule (an old request's result has expired).
    expect(error.name).toBe("KontextRequestNotFoundError");
    expect(error.message).toMatch(
      /fal keeps a result 1 hour after the job completes, 6 minutes when the result is 10 kB or more/,
    );
    const asked = mock.requests.length;
    expect(asked).toBeGreaterThan(0);
    // Several seconds of real time: at the old fixed poll (or TanStack's retries) this saw many more requests.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(mock.requests).toHaveLength(asked);
    expect(result.current.status).toBe("error");
  });

  it("an unknown id on the status stream ends the same way (no poll fallback after a 404)", async () => {
    const { wrapper, mock } = setup();
    const { result } = renderHook(() => useKontextRequest(T2I, "no-such-request"), { wrapper });
    await waitFor(() => expect(result.current.status).toBe("error"));
    expect((result.current.error as KontextApiError).status).toBe(404);
    const asked = mock.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(mock.requests).toHaveLength(asked);
  });

  it("a status stream that breaks mid-job falls back to polling and still reaches the result", async () => {
    const { client, clock, wrapper, calls } = setup({ mock: { faults: [{ kind: "stream-drop", afterEvents: 1 }] } });
    const { requestId } = await client.submit(T2I, input);
    const { result } = renderHook(() => useKontextRequest(T2I, requestId, { pollInterval: 5 }), { wrapper });
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    act(() => clock.advance(10 * STEP));
    await waitFor(() => expect(result.current.status).toBe("COMPLETED"));
    expect(result.current.images).toHaveLength(1);
    // The job handle reopened or polled: plain status calls after the stream broke.
    expect(calls("GET", `/requests/${requestId}/status`).length).toBeGreaterThan(0);
  });

  it("stays idle without a request id", () => {
    const { wrapper, mock } = setup();
    const { result } = renderHook(() => useKontextRequest(T2I, undefined), { wrapper });
    expect(result.current).toMatchObject({ status: "idle", data: undefined, images: [], error: null });
    expect(mock.requests).toHaveLength(0);
  });

  it("shows a prefetched result at once, without asking for the status", async () => {
    const { client, clock, wrapper, calls, queryClient } = setup();
    const { requestId } = await client.submit(T2I, input);
    clock.advance(10 * STEP);
    await queryClient.prefetchQuery(kontextQueryOptions(client, T2I, requestId));
    const before = calls("GET", /\/status$/).length;

    const { result } = renderHook(() => useKontextRequest(T2I, requestId), { wrapper });
    expect(result.current.status).toBe("COMPLETED");
    expect(result.current.images).toHaveLength(1);
    expect(calls("GET", /\/status$/)).toHaveLength(before);
  });

  it("hydrates a server-prefetched result (dehydrate → HydrationBoundary)", async () => {
    const { client, clock, wrapper } = setup();
    const { requestId } = await client.submit(T2I, input);
    clock.advance(10 * STEP);
    const server = new QueryClient();
    await server.prefetchQuery(kontextQueryOptions(client, T2I, requestId));
    const state = dehydrate(server);

    const { result } = renderHook(() => useKontextRequest(T2I, requestId), {
      wrapper: ({ children }) => wrapper({ children: <HydrationBoundary state={state}>{children}</HydrationBoundary> }),
    });
    expect(result.current.status).toBe("COMPLETED");
    expect(result.current.data?.prompt).toBe(input.prompt);
  });

  it("cancel() cancels the resumed job on the server", async () => {
    const { client, wrapper, calls } = setup();
    const { requestId } = await client.submit(T2I, input);
    const { result } = renderHook(() => useKontextRequest(T2I, requestId), { wrapper });
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    await act(async () => {
      await result.current.cancel();
    });
    expect(calls("PUT", `/requests/${requestId}/cancel`)).toHaveLength(1);
    expect(result.current.status).toBe("cancelled");
    expect(result.current.error).toBeNull();
  });

  it("follows and cancels through the new client once the client changes", async () => {
    const { client, wrapper, calls, mock } = setup();
    const { requestId } = await client.submit(T2I, input);
    const paths: { first: string[]; second: string[] } = { first: [], second: [] };
    const counted =
      (into: string[]): typeof fetch =>
      (request, init) => {
        into.push(
          `${init?.method ?? (request instanceof Request ? request.method : "GET")} ${String(request instanceof Request ? request.url : request)}`,
        );
        return mock.fetch(request, init);
      };
    const clientOptions = { credentials: "test-key", dangerouslyAllowBrowser: true, retry: false } as const;
    const first = createKontextClient({ ...clientOptions, fetch: counted(paths.first) });
    const second = createKontextClient({ ...clientOptions, fetch: counted(paths.second) });
    const { result, rerender } = renderHook(
      ({ current }) => useKontextRequest(T2I, requestId, { client: current, mode: "poll", pollInterval: 5 }),
      { wrapper, initialProps: { current: first } },
    );
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    expect(paths.first.some((p) => p.includes(`/requests/${requestId}/status`))).toBe(true);

    rerender({ current: second });
    // A fresh fetch of the status (what a remount or an invalidation does) goes through the new client.
    act(() => {
      void result.current.statusQuery.refetch();
    });
    await waitFor(() => expect(paths.second.some((p) => p.includes(`/requests/${requestId}/status`))).toBe(true));
    await act(async () => {
      await result.current.cancel();
    });
    expect(paths.second.filter((p) => p.startsWith("PUT") && p.endsWith(`/requests/${requestId}/cancel`))).toHaveLength(1);
    expect(paths.first.filter((p) => p.startsWith("PUT"))).toHaveLength(0);
    expect(calls("PUT", `/requests/${requestId}/cancel`)).toHaveLength(1);
  });
});

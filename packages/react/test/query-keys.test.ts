import { useQuery } from "@tanstack/react-query";
import { renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { kontextQueryKeys, kontextQueryOptions, kontextStatusQueryOptions, useKontextClient } from "../src/index.js";
import { setup, T2I } from "./helpers.js";

describe("kontextQueryKeys", () => {
  it("nests every key under the broader ones, so invalidation by prefix works", () => {
    const id = "req-1";
    const keys = [
      kontextQueryKeys.endpoint(T2I),
      kontextQueryKeys.request(T2I, id),
      kontextQueryKeys.status(T2I, id),
      kontextQueryKeys.result(T2I, id),
      kontextQueryKeys.submit(T2I),
    ];
    for (const key of keys) expect(key.slice(0, 2)).toEqual([...kontextQueryKeys.all(), T2I]);
    expect(kontextQueryKeys.status(T2I, id).slice(0, 4)).toEqual(kontextQueryKeys.request(T2I, id));
    expect(kontextQueryKeys.result(T2I, id).slice(0, 4)).toEqual(kontextQueryKeys.request(T2I, id));
    expect(kontextQueryKeys.status(T2I, id)).not.toEqual(kontextQueryKeys.result(T2I, id));
  });

  it("query options carry those keys and ask the client", async () => {
    const { client, clock, queryClient } = setup();
    const { requestId } = await client.submit(T2I, { prompt: "keys" });
    const statusOptions = kontextStatusQueryOptions(client, T2I, requestId);
    expect(statusOptions.queryKey).toEqual(kontextQueryKeys.status(T2I, requestId));
    expect(await queryClient.fetchQuery(statusOptions)).toMatchObject({ status: "IN_QUEUE" });

    clock.advance(60_000);
    const resultOptions = kontextQueryOptions(client, T2I, requestId);
    expect(resultOptions.queryKey).toEqual(kontextQueryKeys.result(T2I, requestId));
    const result = await queryClient.fetchQuery(resultOptions);
    expect(result.requestId).toBe(requestId);
    expect(queryClient.getQueryData(resultOptions.queryKey)?.data.prompt).toBe("keys");
  });

  it("the status query options stop polling after an error", async () => {
    const { wrapper, mock } = setup();
    const { result } = renderHook(
      () => useQuery(kontextStatusQueryOptions(useKontextClient(), T2I, "no-such-id", { pollInterval: 20 })),
      {
        wrapper,
      },
    );
    await waitFor(() => expect(result.current.status).toBe("error"));
    const asked = mock.requests.length;
    // Twenty-five intervals: the old options asked again every 20 ms for as long as the page was open.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mock.requests).toHaveLength(asked);
  });
});

import { KontextApiError, KontextCancelledError, KontextTimeoutError, KontextValidationError } from "@kontext-sdk/client";
import { act, fireEvent, render, renderHook, screen, waitFor } from "@testing-library/react";
import { StrictMode } from "react";
import { describe, expect, it, vi } from "vitest";
import { type KontextStatus, kontextQueryKeys, useKontext } from "../src/index.js";
import { holdSubmits, STEP, setup, T2I } from "./helpers.js";

const input = { prompt: "a red fox reading a newspaper", num_images: 2 };

/** Consecutive duplicates removed: the order of states a user would see. */
const transitions = (seen: KontextStatus[]) => seen.filter((s, i) => s !== seen[i - 1]);

describe.each(["stream", "poll"] as const)("useKontext (%s mode)", (mode) => {
  it("goes idle → submitting → IN_QUEUE → IN_PROGRESS → COMPLETED with queue position, logs and images", async () => {
    const hold = holdSubmits();
    const { clock, wrapper, queryClient } = setup({ fetch: hold.wrap });
    const seen: KontextStatus[] = [];
    const { result } = renderHook(
      () => {
        const k = useKontext(T2I, { mode, pollInterval: 5 });
        seen.push(k.status);
        return k;
      },
      { wrapper },
    );
    expect(result.current.status).toBe("idle");
    expect(result.current.images).toEqual([]);

    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("submitting"));
    expect(result.current.requestId).toBeUndefined();
    hold.release();

    await waitFor(() => expect(result.current.queuePosition).toBe(2));
    expect(result.current.status).toBe("IN_QUEUE");
    expect(result.current.requestId).toMatch(/\S/);
    for (const position of [1, 0]) {
      act(() => clock.advance(STEP));
      await waitFor(() => expect(result.current.queuePosition).toBe(position));
    }
    for (const lines of [1, 2, 3]) {
      act(() => clock.advance(STEP));
      await waitFor(() => expect(result.current.logs).toHaveLength(lines));
      expect(result.current.status).toBe("IN_PROGRESS");
      expect(result.current.queuePosition).toBeUndefined();
    }
    act(() => clock.advance(STEP));
    await waitFor(() => expect(result.current.status).toBe("COMPLETED"));

    const done = result.current;
    if (done.status !== "COMPLETED") throw new Error("unreachable");
    expect(done.data.images).toHaveLength(2);
    expect(done.images).toBe(done.data.images);
    expect(done.error).toBeNull();
    expect(transitions(seen)).toEqual(["idle", "submitting", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    // The result is in the query cache for useKontextRequest / getQueryData.
    expect(queryClient.getQueryData(kontextQueryKeys.result(T2I, done.requestId!))).toEqual({
      data: done.data,
      requestId: done.requestId,
    });
  });
});

function Generate() {
  const k = useKontext(T2I);
  return (
    <div>
      <button type="button" onClick={() => k.submit(input)}>
        Generate
      </button>
      <output>{k.status}</output>
      <span>{k.images.length} images</span>
    </div>
  );
}
describe("useKontext", () => {
  it("cancel() stops the job here and cancels it on the server", async () => {
    const { wrapper, calls, mock } = setup();
    const { result } = renderHook(() => useKontext(T2I), { wrapper });
    let outcome: Promise<unknown> = Promise.resolve();
    act(() => {
      outcome = result.current.submitAsync(input).catch((error: unknown) => error);
    });
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    const requestId = result.current.requestId!;

    await act(async () => {
      await result.current.cancel();
    });
    expect(result.current.status).toBe("cancelled");
    expect(result.current.error).toBeNull();
    expect(result.current.queuePosition).toBeUndefined();
    // The job handle's typed error, naming the job.
    const error = (await outcome) as KontextCancelledError;
    expect(error).toBeInstanceOf(KontextCancelledError);
    expect(error.requestId).toBe(requestId);
    expect(calls("PUT", `/requests/${requestId}/cancel`)).toHaveLength(1);
    // fal drops a queued job at once.
    expect(mock.jobs.has(requestId)).toBe(false);
  });

  it("cancel() of a running job tells the server to stop it", async () => {
    const { wrapper, calls, mock, clock } = setup();
    const { result } = renderHook(() => useKontext(T2I), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    act(() => clock.advance(3 * STEP));
    await waitFor(() => expect(result.current.status).toBe("IN_PROGRESS"));
    const requestId = result.current.requestId!;
    await act(async () => {
      await result.current.cancel();
    });
    expect(result.current.status).toBe("cancelled");
    expect(calls("PUT", `/requests/${requestId}/cancel`)).toHaveLength(1);
    expect(mock.jobs.get(requestId)).toMatchObject({ cancelled: true });
  });

  it("cancel() while still submitting cancels the job as soon as its id is known", async () => {
    const hold = holdSubmits();
    const { wrapper, calls } = setup({ fetch: hold.wrap });
    const { result } = renderHook(() => useKontext(T2I), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("submitting"));

    let cancelled!: Promise<unknown>;
    act(() => {
      cancelled = result.current.cancel();
    });
    expect(result.current.status).toBe("cancelled");
    expect(calls("PUT", /\/cancel$/)).toHaveLength(0);
    hold.release();
    await act(async () => {
      await cancelled;
    });
    expect(calls("PUT", /\/cancel$/)).toHaveLength(1);
    expect(calls("PUT", /\/cancel$/)[0]!.path).toContain(result.current.requestId!);
    expect(result.current.status).toBe("cancelled");
  });

  it("unmount stops following the job but leaves it running", async () => {
    const { wrapper, client, calls, clock, mock } = setup();
    const start = vi.spyOn(client, "start");
    const { result, unmount } = renderHook(() => useKontext(T2I, { mode: "poll", pollInterval: 5 }), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    const requestId = result.current.requestId!;
    expect(start).toHaveBeenCalledTimes(1);
    expect(result.current.job).toBe(start.mock.results[0]!.value);

    unmount();
    const statusCalls = calls("GET", /\/status$/).length;
    act(() => clock.advance(10 * STEP));
    // Long enough for several polls at 5 ms, had the unmount not stopped them.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls("GET", /\/status$/).length).toBeLessThanOrEqual(statusCalls + 1);
    expect(calls("PUT", /\/cancel$/)).toHaveLength(0);
    expect(mock.jobs.get(requestId)).toMatchObject({ cancelled: false });
  });

  it("timeout cancels the job on the server and ends with KontextTimeoutError", async () => {
    const { wrapper, calls } = setup();
    const { result } = renderHook(() => useKontext(T2I, { timeout: 50 }), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("error"));
    const error = result.current.error as KontextTimeoutError;
    expect(error).toBeInstanceOf(KontextTimeoutError);
    expect(error.requestId).toBe(result.current.requestId);
    await waitFor(() => expect(calls("PUT", `/requests/${result.current.requestId}/cancel`)).toHaveLength(1));
  });

  it("cancelOnUnmount also cancels the remote job", async () => {
    const { wrapper, calls } = setup();
    const { result, unmount } = renderHook(() => useKontext(T2I, { cancelOnUnmount: true }), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    const requestId = result.current.requestId!;
    unmount();
    await waitFor(() => expect(calls("PUT", `/requests/${requestId}/cancel`)).toHaveLength(1));
  });

  it("bad input fails with KontextValidationError before any network call", async () => {
    const { wrapper, mock } = setup();
    const { result } = renderHook(() => useKontext(T2I), { wrapper });
    act(() => result.current.submit({ prompt: "x", num_images: 99 }));
    await waitFor(() => expect(result.current.status).toBe("error"));
    const { error } = result.current;
    expect(error).toBeInstanceOf(KontextValidationError);
    expect((error as KontextValidationError).issues.map((i) => i.field)).toContain("num_images");
    expect(mock.requests).toHaveLength(0);
  });

  it("an HTTP failure keeps its class, status and body (KontextApiError)", async () => {
    const { wrapper } = setup({
      fetch: (inner) => async (input, init) => {
        const request = new Request(input, init);
        if (request.method === "POST") {
          return new Response(JSON.stringify({ detail: "Not enough credits", error_type: "bad_request" }), {
            status: 403,
            headers: { "content-type": "application/json", "x-fal-error-type": "bad_request" },
          });
        }
        return inner(request);
      },
    });
    const { result } = renderHook(() => useKontext(T2I), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("error"));
    const error = result.current.error as KontextApiError;
    expect(error).toBeInstanceOf(KontextApiError);
    expect(error.status).toBe(403);
    expect(error.body).toMatchObject({ detail: "Not enough credits" });
  });

  it("a job that fails at the result keeps fal's 422 as a KontextValidationError", async () => {
    const { wrapper, clock } = setup({ mock: { faults: [{ kind: "fail-at-result", status: 422 }] } });
    const { result } = renderHook(() => useKontext(T2I), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    act(() => clock.advance(10 * STEP));
    await waitFor(() => expect(result.current.status).toBe("error"));
    expect(result.current.error).toBeInstanceOf(KontextValidationError);
    expect((result.current.error as KontextValidationError).status).toBe(422);
  });

  it("a new submit follows the new job; the old one keeps running on the server", async () => {
    const { wrapper, calls, clock, mock } = setup();
    const enqueued: string[] = [];
    const updates: string[] = [];
    const { result } = renderHook(
      () => useKontext(T2I, { onEnqueue: (id) => enqueued.push(id), onQueueUpdate: (s) => updates.push(s.status) }),
      { wrapper },
    );
    act(() => result.current.submit({ prompt: "first" }));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    const first = result.current.requestId!;
    act(() => result.current.submit({ prompt: "second" }));
    await waitFor(() => expect(result.current.requestId).not.toBe(first));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    const second = result.current.requestId!;
    expect(enqueued).toEqual([first, second]);

    act(() => clock.advance(10 * STEP));
    await waitFor(() => expect(result.current.status).toBe("COMPLETED"));
    expect(result.current.requestId).toBe(second);
    expect(result.current.data?.prompt).toBe("second");
    expect(calls("PUT", /\/cancel$/)).toHaveLength(0);
    expect(mock.jobs.get(first)).toMatchObject({ state: "COMPLETED", cancelled: false });
    expect(updates).toContain("IN_PROGRESS");
  });

  it("reset() goes back to idle", async () => {
    const { wrapper, clock } = setup();
    const { result } = renderHook(() => useKontext(T2I), { wrapper });
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    act(() => clock.advance(10 * STEP));
    await waitFor(() => expect(result.current.status).toBe("COMPLETED"));
    act(() => result.current.reset());
    expect(result.current).toMatchObject({ status: "idle", data: undefined, requestId: undefined, logs: [], images: [] });
  });

  it("takes its client from an option as well as from the provider", async () => {
    const { wrapper, client } = setup();
    const other = setup();
    const { result } = renderHook(() => useKontext(T2I, { client: other.client }), { wrapper });
    expect(client).not.toBe(other.client);
    act(() => result.current.submit(input));
    await waitFor(() => expect(result.current.status).toBe("IN_QUEUE"));
    expect(other.mock.requests.length).toBeGreaterThan(0);
  });

  it("submits once under StrictMode (a click, never an effect)", async () => {
    const { wrapper, calls, clock } = setup();
    render(
      <StrictMode>
        <Generate />
      </StrictMode>,
      { wrapper },
    );
    fireEvent.click(screen.getByRole("button", { name: "Generate" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("IN_QUEUE"));
    act(() => clock.advance(10 * STEP));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("COMPLETED"));
    expect(screen.getByText("2 images")).toBeTruthy();
    expect(calls("POST", T2I)).toHaveLength(1);
  });
});

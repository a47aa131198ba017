import { createKontextMock } from "@kontext-sdk/mocks";
import { describe, expect, it } from "vitest";
import { createKontextClient, KontextTimeoutError } from "../src/index.js";

const BASE = "http://mock.test";

/** A mock whose jobs take about 10 s (real clock), so a short whole-job timeout always runs out first. */
function setup() {
  const mock = createKontextMock({ timeline: { queueSteps: 5, progressSteps: 5, stepMs: 1_000 } });
  const client = createKontextClient({ credentials: "k", baseUrl: BASE, fetch: mock.fetch });
  return { mock, client };
}

describe("the job handle's whole-job timeout", () => {
  it("start({ timeout }): waits reject with KontextTimeoutError carrying the id, and the job is cancelled", async () => {
    const { mock, client } = setup();
    const job = client.start("fal-ai/flux-pro/kontext/text-to-image", { prompt: "slow" }, { timeout: 300, mode: "poll" });
    const requestId = await job.requestId;
    const error = await job.result().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KontextTimeoutError);
    expect(error).toMatchObject({ requestId });
    expect((error as Error).message).toBe(
      `the job ${requestId} took longer than 300 ms; it is cancelled on the server (best effort)`,
    );
    await job.done;
    expect(mock.requests.filter((entry) => entry.operation === "cancel")).toHaveLength(1);
    // The error is kept: a later wait gets it at once, without another request.
    const before = mock.requests.length;
    await expect(job.result()).rejects.toBe(error);
    expect(mock.requests.length).toBe(before);
  });

  it("job(id, { timeout }) bounds a resumed job the same way", async () => {
    const { mock, client } = setup();
    const { requestId } = await client.submit("fal-ai/flux-pro/kontext/text-to-image", { prompt: "slow" });
    const job = client.job("fal-ai/flux-pro/kontext/text-to-image", requestId, { timeout: 200 });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const status of job.statuses()) seen.push(status.status);
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "KontextTimeoutError", requestId });
    await job.done;
    expect(mock.requests.some((entry) => entry.operation === "cancel")).toBe(true);
  });

  it("a job that finishes in time keeps its result and sends no cancel", async () => {
    const mock = createKontextMock({ timeline: { queueSteps: 1, progressSteps: 1, stepMs: 20 } });
    const client = createKontextClient({ credentials: "k", baseUrl: BASE, fetch: mock.fetch });
    const job = client.start("fal-ai/flux-pro/kontext/text-to-image", { prompt: "quick" }, { timeout: 20_000 });
    const { data } = await job.result();
    expect(data.images).toHaveLength(1);
    expect(mock.requests.some((entry) => entry.operation === "cancel")).toBe(false);
  });
});

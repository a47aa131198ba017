/** fal's account concurrency limit (only running jobs count) and the submit query `fal_max_queue_length`. */
import { afterAll, describe, expect, it } from "vitest";
import { KontextMockError } from "../src/index.js";
import { KEY, setup, T2I, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

// One queue step, two running steps of 100 ms: a job alone runs from 100 to 300 ms.
const timeline = { queueSteps: 1, progressSteps: 2, stepMs: 100 };

async function statusOf(t: ReturnType<typeof setup>, statusUrl: string) {
  return (await (await t.call(statusUrl)).json()) as { status: string; queue_position?: number };
}

describe("concurrencyLimit", () => {
  it("runs at most N jobs at once; the others wait IN_QUEUE with a falling queue_position", async () => {
    const t = setup({ concurrencyLimit: 2, timeline });
    const submitted: Record<string, any>[] = [];
    for (let index = 0; index < 5; index++) submitted.push((await t.submit({ prompt: `job ${index}` })).body);
    expect(submitted.map((body) => body.queue_position)).toEqual([0, 1, 2, 3, 4]);

    const snapshot = async () => Promise.all(submitted.map((body) => statusOf(t, body.status_url)));
    const running = (statuses: { status: string }[]) => statuses.filter((s) => s.status === "IN_PROGRESS").length;

    t.clock.advance(100); // jobs 0 and 1 start; 2, 3, 4 wait for a slot
    let now = await snapshot();
    expect(now.map((s) => s.status)).toEqual(["IN_PROGRESS", "IN_PROGRESS", "IN_QUEUE", "IN_QUEUE", "IN_QUEUE"]);
    expect(now.slice(2).map((s) => s.queue_position)).toEqual([0, 1, 2]);

    t.clock.advance(200); // 0 and 1 done at 300 ms; 2 and 3 take their slots
    now = await snapshot();
    expect(now.map((s) => s.status)).toEqual(["COMPLETED", "COMPLETED", "IN_PROGRESS", "IN_PROGRESS", "IN_QUEUE"]);
    expect(now[4]!.queue_position).toBe(0);

    // Never more than two at once, at any step of the whole run.
    for (let step = 0; step < 8; step++) {
      t.clock.advance(50);
      expect(running(await snapshot())).toBeLessThanOrEqual(2);
    }
    expect((await snapshot()).every((s) => s.status === "COMPLETED")).toBe(true);
    expect([...t.mock.jobs.values()].map((job) => job.startsAt - job.submittedAt)).toEqual([100, 100, 300, 300, 500]);
  });

  it("a cancelled running job frees its slot at once for the next job in line", async () => {
    const t = setup({ concurrencyLimit: 1, timeline });
    const first = (await t.submit({ prompt: "first" })).body;
    const second = (await t.submit({ prompt: "second" })).body;
    t.clock.advance(150);
    expect((await statusOf(t, second.status_url)).status).toBe("IN_QUEUE");
    expect((await t.call(first.cancel_url, { method: "PUT" })).status).toBe(202);
    expect((await statusOf(t, second.status_url)).status).toBe("IN_PROGRESS");
    t.clock.advance(200);
    expect((await statusOf(t, second.status_url)).status).toBe("COMPLETED");
  });

  it("status streams see the queue move as jobs ahead start", async () => {
    const t = setup({ concurrencyLimit: 1, timeline });
    await t.submit({ prompt: "ahead" });
    const behind = (await t.submit({ prompt: "behind" })).body;
    const stream = (await t.mock.fetch(`${behind.status_url}/stream`, { headers: KEY })).text();
    t.clock.advance(1_000);
    const events = (await stream)
      .split("\n\n")
      .filter((block) => block.startsWith("data: "))
      .map((block) => JSON.parse(block.slice(6)) as { status: string; queue_position?: number });
    expect(events.map((event) => [event.status, event.queue_position])).toEqual([
      ["IN_QUEUE", 1],
      ["IN_QUEUE", 0],
      ["IN_PROGRESS", undefined],
      ["COMPLETED", undefined],
    ]);
    expect(t.clock.pendingTimers).toBe(0);
  });

  it("refuses a limit that is not a whole number of at least 1 with a KontextMockError", () => {
    expect(() => setup({ concurrencyLimit: 0 })).toThrow(KontextMockError);
    expect(() => setup({ concurrencyLimit: 1.5 })).toThrow(/concurrencyLimit must be a whole number of at least 1 \(got 1.5\)/);
  });
});

describe("fal_max_queue_length", () => {
  it("answers a flat 429 when that many jobs of the app already wait", async () => {
    const t = setup({ concurrencyLimit: 1, timeline });
    const query = "?fal_max_queue_length=2";
    expect((await t.submit({ prompt: "a" }, T2I, query)).response.status).toBe(200);
    expect((await t.submit({ prompt: "b" }, T2I, query)).response.status).toBe(200);
    const refused = await t.submit({ prompt: "c" }, T2I, query);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get("x-fal-error-type")).toBe("queue_full");
    expect(refused.response.headers.get("retry-after")).toBe("1");
    expect(refused.body).toEqual({ detail: expect.stringContaining("fal_max_queue_length=2"), error_type: "queue_full" });
    expect(t.mock.jobs.size).toBe(2);
    // Without the query nothing is refused; once the first job runs, the queue has room again.
    expect((await t.submit({ prompt: "d" })).response.status).toBe(200);
    t.clock.advance(100);
    expect(
      (await t.submit({ prompt: "e" }, "fal-ai/flux-pro/kontext/max/text-to-image", "?fal_max_queue_length=3")).response.status,
    ).toBe(200);
  });

  it("refuses a value that is not a whole number with a 422 naming the query parameter", async () => {
    const t = setup();
    const { response, body } = await t.submit({ prompt: "a" }, T2I, "?fal_max_queue_length=lots");
    expect(response.status).toBe(422);
    expect(body.detail[0].loc).toEqual(["query", "fal_max_queue_length"]);
  });
});

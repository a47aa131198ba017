/**
 * The rules both modes share for a finished job (job-summary.ts): the summary a completed job leaves,
 * the results.jsonl lines, and the failure tally of a batch summary. The runner and the BullMQ workers
 * both go through these, so a change here shows in both.
 */
import type { KontextOutput } from "@kontext-sdk/schema";
import { describe, expect, it } from "vitest";
import type { InputProblem } from "../src/input.js";
import { completedLine, failedLine, problemLine, summarizeJob, tallyFailures } from "../src/job-summary.js";

const output = (extra: Partial<KontextOutput> = {}): KontextOutput =>
  ({ images: [], timings: {}, prompt: "a cat", ...extra }) as KontextOutput;

const problem: InputProblem = { line: 4, message: "prompt is required", field: "prompt", rule: "required" };

describe("summarizeJob", () => {
  it("keeps the seed, the timings in whole ms, the request count and the nsfw flags", () => {
    const summary = summarizeJob({
      requestId: "req-1",
      output: output({ seed: 42, timings: { inference: 1.2345 }, has_nsfw_concepts: [false] }),
      files: ["job-1-0.png"],
      submittedAt: 100,
      requests: 3,
      completedAt: 200,
    });
    expect(summary).toEqual({
      requestId: "req-1",
      seed: 42,
      files: ["job-1-0.png"],
      timings: { submittedAt: 100, completedAt: 200, inferenceMs: 1235 },
      requests: 3,
      nsfw: [false],
    });
  });

  it("leaves out what is unknown instead of writing undefined, and marks webhook deliveries", () => {
    const summary = summarizeJob({
      requestId: "req-2",
      output: output(),
      files: [],
      submittedAt: undefined,
      requests: undefined,
      webhook: true,
      completedAt: 5,
    });
    expect(summary).toEqual({ requestId: "req-2", files: [], timings: { completedAt: 5 }, webhook: true });
    expect(Object.keys(summary)).not.toContain("requests");
    expect(Object.keys(summary.timings)).not.toContain("submittedAt");
  });

  it("stamps the completion time when none is given", () => {
    const before = Date.now();
    const { timings } = summarizeJob({ requestId: "req-3", output: output(), files: [] });
    expect(timings.completedAt).toBeGreaterThanOrEqual(before);
    expect(timings.completedAt).toBeLessThanOrEqual(Date.now());
  });
});

describe("result lines", () => {
  const summary = summarizeJob({
    requestId: "req-1",
    output: output({ seed: 7, has_nsfw_concepts: [true] }),
    files: ["a-0.png"],
    requests: 4,
    webhook: true,
    completedAt: 9,
  });

  it("a completed line carries the summary's record fields, not its journal-only flags", () => {
    expect(completedLine({ id: "a", endpoint: "fal-ai/flux-pro/kontext" }, summary)).toEqual({
      id: "a",
      endpoint: "fal-ai/flux-pro/kontext",
      status: "completed",
      requestId: "req-1",
      seed: 7,
      timings: { completedAt: 9 },
      files: ["a-0.png"],
      requests: 4,
    });
  });

  it("a completed line says followed only when an attempt took the job over", () => {
    expect(completedLine({ id: "a" }, summary, true)).toMatchObject({ followed: true });
    expect(completedLine({ id: "a" }, summary, false)).not.toHaveProperty("followed");
    expect(completedLine({ id: "a" }, summary)).not.toHaveProperty("endpoint");
  });

  it("a failed line keeps the request id and request count when there are any", () => {
    const error = { reason: "model_error" as const, message: "422", status: 422 };
    expect(failedLine({ id: "b", endpoint: "e" }, { requestId: "req-b", requests: 2, error })).toEqual({
      id: "b",
      endpoint: "e",
      status: "failed",
      requestId: "req-b",
      requests: 2,
      error,
    });
    expect(failedLine({ id: "b" }, { requestId: undefined, error })).toEqual({ id: "b", status: "failed", error });
  });

  it("a refused input line is named by its id, or by its line number", () => {
    const error = { reason: "invalid_input", message: "prompt is required", field: "prompt", line: 4 };
    expect(problemLine(problem)).toEqual({ id: "line-4", status: "failed", error });
    expect(problemLine({ ...problem, id: "job-9" })).toMatchObject({ id: "job-9" });
  });
});

describe("tallyFailures", () => {
  it("counts failures by reason, refused lines as invalid_input, and lists uncertain ids in order", () => {
    const tally = tallyFailures(
      [
        { id: "c", error: { reason: "uncertain", message: "" } },
        { id: "a", error: { reason: "model_error", message: "" } },
        { id: "b", error: { reason: "uncertain", message: "" } },
      ],
      [problem, { ...problem, line: 5 }],
    );
    expect(tally).toEqual({ failed: 5, byReason: { uncertain: 2, model_error: 1, invalid_input: 2 }, uncertain: ["c", "b"] });
  });

  it("is empty when nothing failed", () => {
    expect(tallyFailures([], [])).toEqual({ failed: 0, byReason: {}, uncertain: [] });
  });
});

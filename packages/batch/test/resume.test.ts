/**
 * The resume rule both modes share (resume.ts): what a job picked up again gets, from the runner's
 * journal state or from a BullMQ job's data. A known request id is followed, never submitted again.
 */
import { describe, expect, it } from "vitest";
import { FAILURE_REASONS, type FailureReason } from "../src/errors.js";
import { failedStep, isRefollowable, REFOLLOW_REASONS, resumeStep, uncertainFailure, unfinishedStep } from "../src/resume.js";

const failure = (reason: FailureReason) => ({ reason, message: reason });

describe("resumeStep (journal states)", () => {
  it("skips a completed job and submits one never started", () => {
    const summary = { requestId: "r", files: [], timings: { completedAt: 1 } };
    expect(resumeStep({ state: "completed", summary }, false)).toEqual({ step: "skip" });
    expect(resumeStep({ state: "pending" }, false)).toEqual({ step: "submit" });
  });

  it("follows a submitted job by its request id, keeping when it was submitted", () => {
    expect(resumeStep({ state: "submitted", requestId: "req-1", submittedAt: 5 }, true)).toEqual({
      step: "follow",
      requestId: "req-1",
      submittedAt: 5,
    });
  });

  it("reports an intent without a request id as uncertain, and submits it only when asked", () => {
    expect(resumeStep({ state: "uncertain", intentAt: 1 }, false)).toEqual({ step: "uncertain" });
    expect(resumeStep({ state: "uncertain", intentAt: 1 }, true)).toEqual({ step: "submit" });
  });
});

describe("failedStep", () => {
  it("follows again only the follow failures, by the same request id", () => {
    for (const reason of FAILURE_REASONS) {
      const step = failedStep({ requestId: "req-1", error: failure(reason) }, true);
      const expected = ["network", "api_error", "timeout"].includes(reason)
        ? { step: "follow", requestId: "req-1" }
        : { step: "skip" };
      expect(step, reason).toEqual(expected);
    }
  });

  it("sends a failure without a request id again only when nothing can have been queued, or when asked", () => {
    expect(failedStep({ error: failure("network") }, false)).toEqual({ step: "submit" });
    expect(failedStep({ error: failure("uncertain") }, false)).toEqual({ step: "skip" });
    expect(failedStep({ error: failure("uncertain") }, true)).toEqual({ step: "submit" });
    expect(failedStep({ error: failure("rejected") }, true)).toEqual({ step: "skip" });
  });
});

describe("unfinishedStep (a BullMQ job's data)", () => {
  it("follows a request id an earlier attempt recorded, even when uncertain ones may be resubmitted", () => {
    expect(unfinishedStep({ requestId: "req-1", submittedAt: 3, intentAt: 2 }, true)).toEqual({
      step: "follow",
      requestId: "req-1",
      submittedAt: 3,
    });
  });

  it("treats a cleared intent as never sent", () => {
    expect(unfinishedStep({ intentAt: undefined }, false)).toEqual({ step: "submit" });
    expect(unfinishedStep({ intentAt: 0 }, false)).toEqual({ step: "uncertain" });
  });
});

describe("the shared pieces", () => {
  it("refollows exactly network, api_error and timeout", () => {
    expect([...REFOLLOW_REASONS].sort()).toEqual(["api_error", "network", "timeout"]);
    expect(FAILURE_REASONS.filter(isRefollowable).sort()).toEqual(["api_error", "network", "timeout"]);
  });

  it("words the uncertain failure for whoever stopped, with advice where there is some", () => {
    expect(uncertainFailure("a worker")).toEqual({
      reason: "uncertain",
      message:
        "a worker stopped after sending the submit and before recording its answer: the job may be queued (and billed) at fal",
    });
    expect(uncertainFailure("the process", "resume with resubmitUncertain to send it again").message).toMatch(
      /^the process stopped .* at fal; resume with resubmitUncertain to send it again$/,
    );
  });
});

import { createKontextMock, createManualClock } from "@kontext-sdk/mocks";
import { startMockServer } from "@kontext-sdk/mocks/server";
import { describe, expect, it } from "vitest";
import { formatReport, runContract, toJUnit } from "../src/index.js";
import { findAll, parseXml } from "./xml-check.js";

describe("runContract against our mock", () => {
  it("passes cleanly against the mock server over HTTP, every endpoint, sync host included", async () => {
    const server = await startMockServer({ timeline: { queueSteps: 2, progressSteps: 2, stepMs: 25 } });
    try {
      const report = await runContract({
        baseUrl: server.url,
        syncBaseUrl: `${server.url}/sync`,
        credentials: "mock-key-id:mock-key-secret",
        pollIntervalMs: 20,
        timeoutMs: 20_000,
      });
      expect(
        report.checks.filter((c) => !c.ok),
        formatReport(report),
      ).toEqual([]);
      expect(report.skipped).toBe(0);
      // six jobs, the cancelled one, the invalid input and the sync run
      expect(report.imagesRequested).toBe(9);
      expect(report.checks.filter((c) => c.name === "result")).toHaveLength(6);
      expect(findAll(parseXml(toJUnit(report)), "testcase")).toHaveLength(report.checks.length);
      // the key never leaves in the mock's own recording either
      expect(JSON.stringify(server.mock.requests)).not.toContain("mock-key-secret");
    } finally {
      await server.close();
    }
  }, 60_000);

  it("passes with Bearer auth on an injected mock.fetch driven by a manual clock (no sleeping)", async () => {
    const clock = createManualClock();
    const mock = createKontextMock({ clock, timeline: { queueSteps: 2, progressSteps: 2, stepMs: 1_000 } });
    // Every status read moves time one step, so the job walks IN_QUEUE → IN_PROGRESS → COMPLETED.
    const stepping = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await mock.fetch(input, init);
      clock.advance(1_000);
      return response;
    }) as typeof fetch;
    const report = await runContract({
      baseUrl: "https://queue.example.test",
      credentials: "token",
      authScheme: "Bearer",
      endpoints: ["fal-ai/flux-pro/kontext/text-to-image", "fal-ai/flux-pro/kontext/max/multi"],
      fetch: stepping,
      pollIntervalMs: 0,
      timeoutMs: 10_000,
    });
    expect(
      report.checks.filter((c) => !c.ok),
      formatReport(report),
    ).toEqual([]);
    const states = mock.requests.filter((r) => r.path.endsWith("/status")).length;
    expect(states).toBeGreaterThan(2);
  });

  it("reports one failure, not a 401 per call, when the mock requires a key and none is given", async () => {
    const mock = createKontextMock({ auth: "required" });
    const report = await runContract({
      baseUrl: "https://queue.example.test",
      fetch: mock.fetch,
      endpoints: ["fal-ai/flux-pro/kontext"],
      pollIntervalMs: 0,
    });
    expect(report.failed).toBe(1);
    const credentials = report.checks.find((c) => c.name === "credentials");
    expect(credentials?.violations.map((v) => v.rule)).toEqual(["credentials-required"]);
    expect(credentials?.violations[0]?.message).toContain("pass --key");
    // nothing else was sent: one status call told it all
    expect(mock.requests).toHaveLength(1);
  });
});

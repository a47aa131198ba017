import { describe, expect, it } from "vitest";
import { type ContractOptions, type ContractReport, runContract } from "../src/index.js";
import { type Breakage, createFakeFal, FAL_LIKE } from "./fake-fal.js";

const BASE = "http://fake.test";

async function runAgainst(breakage: Breakage, extra: Partial<ContractOptions> = {}): Promise<ContractReport> {
  const fake = createFakeFal(breakage);
  return runContract({
    baseUrl: BASE,
    credentials: "fake-key-id:fake-key-secret",
    endpoints: ["fal-ai/flux-pro/kontext/text-to-image", "fal-ai/flux-pro/kontext/max", "fal-ai/flux-pro/kontext/max/multi"],
    fetch: fake.fetch,
    pollIntervalMs: 0,
    timeoutMs: 5_000,
    ...extra,
  });
}

const rules = (report: ContractReport) => [...new Set(report.checks.flatMap((c) => c.violations.map((v) => v.rule)))].sort();
const violationsOf = (report: ContractReport, rule: string) =>
  report.checks.flatMap((c) => c.violations).filter((v) => v.rule === rule);

describe("runContract against a correct fake", () => {
  it("passes every check", async () => {
    const report = await runAgainst({});
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.skipped).toBe(0);
    // 3 jobs + the cancelled one + the invalid input
    expect(report.imagesRequested).toBe(5);
    const names = report.checks.map((c) => c.name);
    for (const name of [
      "submit",
      "status without logs",
      "status with logs",
      "status stream",
      "poll to completion",
      "result",
      "cancel",
      "invalid input",
      "unknown request id",
    ]) {
      expect(names).toContain(name);
    }
  });

  it("stops submitting at maxImages and says so", async () => {
    const report = await runAgainst({}, { maxImages: 2 });
    expect(report.imagesRequested).toBe(2);
    expect(report.failed).toBe(0);
    const skipped = report.checks.filter((c) => c.skipped);
    expect(skipped.map((c) => `${c.name}@${c.endpoint ?? ""}`)).toContain("submit@fal-ai/flux-pro/kontext/max/multi");
    expect(skipped.every((c) => c.skipped?.includes("max images (2)"))).toBe(true);
    expect(skipped.map((c) => c.name)).toEqual(expect.arrayContaining(["cancel", "invalid input"]));
  });

  it("requests no image at all with maxImages 0", async () => {
    const report = await runAgainst({}, { maxImages: 0 });
    expect(report.imagesRequested).toBe(0);
    expect(report.checks.find((c) => c.name === "unknown request id")?.ok).toBe(true);
  });
});

describe("runContract against a server that behaves like fal", () => {
  it("passes: invalid input accepted, 422 from the result, flat 404s, minimal submit answers, null image fields", async () => {
    const report = await runAgainst(FAL_LIKE);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.skipped).toBe(0);
    const invalid = report.checks.find((c) => c.name === "invalid input");
    expect(invalid?.notes?.join("\n")).toMatch(/validated at the result: accepted at submit, COMPLETED, then \(422\)/);
    expect(invalid?.notes?.join("\n")).toContain("error_type validation_error");
  });

  it("notes a 422 at submit (as gateways that validate early answer) just as well", async () => {
    const report = await runAgainst({});
    expect(report.checks.find((c) => c.name === "invalid input")?.notes?.join("\n")).toMatch(
      /validated at submit \(422\): prompt/,
    );
  });

  it("notes, without failing, a result whose x-fal-request-id names another id", async () => {
    const report = await runAgainst({ otherResultRequestId: "gateway-7" });
    expect(report.failed).toBe(0);
    const notes = report.checks.filter((c) => c.name === "result").flatMap((c) => c.notes ?? []);
    expect(notes).toContain("the result's x-fal-request-id is gateway-7, not fake-1");
  });

  it("fails an invalid input that is accepted and produces an output", async () => {
    const report = await runAgainst({ invalidInputSucceeds: true });
    const invalid = report.checks.find((c) => c.name === "invalid input");
    expect(invalid?.violations.map((v) => v.rule)).toEqual(["invalid-input-not-422"]);
    expect(invalid?.violations[0]?.message).toContain("accepted and produced an output");
    expect(report.failed).toBe(1);
  });
});

describe("runContract names each breakage", () => {
  const cases: [string, Breakage, string, string][] = [
    ["status on the full endpoint path", { statusOnFullPath: true }, "owner-app-url", "submit"],
    ["status on the full endpoint path (calls)", { statusOnFullPath: true }, "owner-app-path", "status without logs"],
    ["a missing request_id", { missingRequestId: true }, "request-id-missing", "submit"],
    ["200 while IN_QUEUE", { okWhileQueued: true }, "pending-status-200", "status without logs"],
    ["an output image without url", { imageWithoutUrl: true }, "schema:required", "result"],
    ["a 422 in another shape", { other422Shape: true }, "schema:required", "invalid input"],
    ["returned URLs on a foreign origin", { foreignOrigin: true }, "foreign-origin", "submit"],
    ["a result served before COMPLETED", { resultBeforeCompleted: true }, "result-before-completed", "result before completion"],
  ];

  for (const [label, breakage, rule, checkName] of cases) {
    it(`${label} → ${rule} in "${checkName}"`, async () => {
      const report = await runAgainst(breakage);
      expect(report.failed).toBeGreaterThan(0);
      const failing = report.checks.filter((c) => c.name === checkName && !c.ok);
      expect(failing.length).toBeGreaterThan(0);
      expect(failing.flatMap((c) => c.violations.map((v) => v.rule))).toContain(rule);
    });
  }

  it("points at the exact JSON path of a missing image url", async () => {
    const report = await runAgainst({ imageWithoutUrl: true });
    expect(violationsOf(report, "schema:required").map((v) => v.path)).toContain("$.images[0].url");
  });

  it("points at the 422's missing detail", async () => {
    const report = await runAgainst({ other422Shape: true });
    const v = violationsOf(report, "schema:required").find((x) => x.operationId === "submitTextToImage");
    expect(v).toMatchObject({ path: "$.detail", status: 422 });
  });

  it("reports nothing but the breakage for a single fault", async () => {
    expect(rules(await runAgainst({ foreignOrigin: true }))).toEqual(["foreign-origin"]);
    expect(rules(await runAgainst({ okWhileQueued: true }))).toEqual(["pending-status-200", "schema:const"]);
    expect(rules(await runAgainst({ resultBeforeCompleted: true }))).toEqual(["result-before-completed"]);
  });

  it("reports a foreign URL once, not once per status answer or stream event", async () => {
    const report = await runAgainst({ foreignOrigin: true });
    const messages = violationsOf(report, "foreign-origin").map((v) => v.message);
    // three URLs for each accepted job: three endpoints and the cancelled one
    expect(messages).toHaveLength(12);
    expect(new Set(messages).size).toBe(12);
    expect(report.checks.filter((c) => c.name === "status stream").every((c) => c.ok)).toBe(true);
  });

  it("allowForeignUrls silences foreign-origin only", async () => {
    expect((await runAgainst({ foreignOrigin: true }, { allowForeignUrls: true })).failed).toBe(0);
    expect(rules(await runAgainst({ foreignOrigin: true, statusOnFullPath: true }, { allowForeignUrls: true }))).toContain(
      "owner-app-url",
    );
  });
});

describe("runContract hygiene", () => {
  it("never puts the key in a report, even when a server echoes it", async () => {
    const secret = "sk_live_0123456789abcdef";
    const echo = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      const auth = new Headers(init?.headers).get("authorization");
      return new Response(`<html>denied for ${auth}</html>`, { status: 401, headers: { "content-type": "text/html" } });
    }) as typeof fetch;
    const report = await runContract({
      baseUrl: BASE,
      credentials: secret,
      authScheme: "Bearer",
      fetch: echo,
      endpoints: ["fal-ai/flux-pro/kontext"],
      maxImages: 1,
    });
    expect(report.failed).toBeGreaterThan(0);
    expect(report.checks.find((c) => c.name === "submit")?.violations.map((v) => v.rule)).toEqual([
      "invalid-json",
      "submit-rejected",
    ]);
    expect(JSON.stringify(report)).not.toContain(secret);
  });

  it("reports one failure saying 'pass --key' when a server wants a key and none was given", async () => {
    const fake = createFakeFal();
    const guarded = (async (input: RequestInfo | URL, init?: RequestInit) =>
      new Headers(init?.headers).has("authorization")
        ? fake.fetch(input, init)
        : new Response(JSON.stringify({ detail: "No user found for Key ID and Secret" }), {
            status: 401,
            headers: { "content-type": "application/json" },
          })) as typeof fetch;
    const report = await runContract({ baseUrl: BASE, fetch: guarded, endpoints: ["fal-ai/flux-pro/kontext"] });
    expect(report.failed).toBe(1);
    const failing = report.checks.filter((c) => !c.ok);
    expect(failing.map((c) => c.name)).toEqual(["credentials"]);
    expect(failing[0]?.violations).toEqual([
      expect.objectContaining({ rule: "credentials-required", status: 401, message: expect.stringContaining("pass --key") }),
    ]);
    expect(report.checks.filter((c) => c.name !== "credentials").every((c) => c.skipped?.includes("401"))).toBe(true);
    expect(report.imagesRequested).toBe(0);
  });

  it("runs normally without a key when the server needs none", async () => {
    const fake = createFakeFal();
    const report = await runContract({
      baseUrl: BASE,
      fetch: fake.fetch,
      endpoints: ["fal-ai/flux-pro/kontext"],
      pollIntervalMs: 0,
    });
    expect(report.failed).toBe(0);
    expect(report.checks.find((c) => c.name === "credentials")?.notes).toEqual([
      "the server answers without credentials (HTTP 404)",
    ]);
  });

  it("waits out a documented 429 on status polls instead of failing", async () => {
    const report = await runAgainst({ rateLimitStatus: 3 });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.find((c) => c.name === "result")?.skipped).toBeUndefined();
  });

  it("sends the chosen auth scheme", async () => {
    const seen = new Set<string | null>();
    const fake = createFakeFal();
    const spy = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.add(new Headers(init?.headers).get("authorization"));
      return fake.fetch(input, init);
    }) as typeof fetch;
    await runContract({
      baseUrl: BASE,
      credentials: "tok",
      authScheme: "Bearer",
      fetch: spy,
      endpoints: ["fal-ai/flux-pro/kontext"],
      pollIntervalMs: 0,
    });
    expect([...seen]).toEqual(["Bearer tok"]);
  });

  it("reports not-completed when the status stream stays open past timeoutMs", async () => {
    const fake = createFakeFal();
    // A keep-alive and then nothing, on a stream that never ends; like a real fetch's, the body errors
    // when the request's signal aborts.
    const stalled = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (!String(input).includes("/status/stream")) return fake.fetch(input, init);
      const signal = init?.signal;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(": keep-alive\n\n"));
          signal?.addEventListener("abort", () => controller.error(signal.reason), { once: true });
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    }) as typeof fetch;
    const report = await runContract({
      baseUrl: BASE,
      fetch: stalled,
      endpoints: ["fal-ai/flux-pro/kontext"],
      pollIntervalMs: 0,
      timeoutMs: 300,
      skip: ["cancel", "invalid input", "unknown request id"],
    });
    expect(report.checks.find((c) => c.name === "status stream")?.violations).toEqual([
      expect.objectContaining({
        rule: "not-completed",
        operationId: "streamStatus",
        message: "no COMPLETED event within 300 ms",
      }),
    ]);
  });

  it("rejects with the abort reason when the signal fires", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(runAgainst({}, { signal: controller.signal })).rejects.toBe(reason);
  });
});

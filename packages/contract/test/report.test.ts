import { describe, expect, it } from "vitest";
import { type Check, type ContractReport, formatReport, runContract, toJUnit } from "../src/index.js";
import { xml } from "../src/junit.js";
import { createFakeFal } from "./fake-fal.js";
import { findAll, parseXml } from "./xml-check.js";

const hostile = "a <b> & \"c\" 'd' \u0001 ]]> end";

function sampleReport(): ContractReport {
  const checks: Check[] = [
    { name: "unknown request id", ok: true, violations: [], durationMs: 3 },
    {
      name: "result",
      endpoint: "fal-ai/flux-pro/kontext/max",
      ok: false,
      durationMs: 12,
      violations: [
        {
          rule: "schema:required",
          path: "$.images[0].url",
          message: "images[0].url is required",
          operationId: "getResult",
          status: 200,
        },
        { rule: "foreign-origin", path: "$.status_url", message: hostile, operationId: "getStatus", status: 202 },
      ],
    },
    { name: "cancel", ok: true, violations: [], durationMs: 0, skipped: "skipped: max images (1) reached" },
  ];
  return {
    baseUrl: "http://127.0.0.1:4010",
    endpoints: ["fal-ai/flux-pro/kontext/max"],
    checks,
    imagesRequested: 1,
    maxImages: 1,
    passed: 1,
    failed: 1,
    skipped: 1,
    durationMs: 15,
  };
}

describe("formatReport", () => {
  it("prints one line per check, the violations with their paths, and a summary with the images requested", () => {
    const text = formatReport(sampleReport());
    const lines = text.split("\n");
    expect(lines[0]).toBe("✓ unknown request id (3 ms)");
    expect(lines[1]).toBe("✗ result · fal-ai/flux-pro/kontext/max (12 ms)");
    expect(lines[2]).toBe("    schema:required at $.images[0].url: images[0].url is required");
    expect(lines[3]).toContain("foreign-origin at $.status_url");
    expect(lines[4]).toBe("- cancel (skipped: max images (1) reached)");
    expect(lines.at(-1)).toMatch(
      /^FAIL: 1 passed, 1 failed, 1 skipped · 1 image requested \(max 1\) · http:\/\/127\.0\.0\.1:4010/,
    );
  });

  it("folds an endpoint's skipped checks into one line", async () => {
    const fake = createFakeFal();
    const report = await runContract({
      baseUrl: "http://fake.test",
      fetch: fake.fetch,
      pollIntervalMs: 0,
      maxImages: 1,
      endpoints: ["fal-ai/flux-pro/kontext/text-to-image", "fal-ai/flux-pro/kontext/max"],
    });
    const text = formatReport(report);
    expect(text).toContain("- 7 checks (submit … result) · fal-ai/flux-pro/kontext/max (skipped: max images (1) reached)");
    expect(text).toContain("- cancel · fal-ai/flux-pro/kontext/text-to-image (skipped: max images (1) reached)");
    expect(report.checks.filter((c) => c.skipped)).toHaveLength(9);
  });

  it("colours only when asked", () => {
    expect(formatReport(sampleReport())).not.toContain("\u001b[");
    expect(formatReport(sampleReport(), { color: true })).toContain("\u001b[31m✗\u001b[0m");
  });
});

describe("toJUnit", () => {
  it("is well-formed XML with one testcase per check, failures and skips", () => {
    const report = sampleReport();
    const doc = parseXml(toJUnit(report, { timestamp: "2026-01-01T00:00:00.000Z" }));
    expect(doc.name).toBe("testsuites");
    const cases = findAll(doc, "testcase");
    expect(cases.map((c) => c.attributes.name)).toEqual(report.checks.map((c) => c.name));
    expect(cases.map((c) => c.attributes.classname)).toEqual(["protocol", "fal-ai/flux-pro/kontext/max", "protocol"]);
    const failure = findAll(cases[1]!, "failure")[0]!;
    expect(failure.attributes.type).toBe("schema:required");
    expect(failure.attributes.message).toContain("$.images[0].url");
    // the hostile message survives escaping, minus the control character XML cannot hold
    expect(failure.text).toContain("a <b> & \"c\" 'd'  ]]> end");
    expect(findAll(cases[2]!, "skipped")[0]!.attributes.message).toContain("max images");
    const suite = findAll(doc, "testsuite")[0]!;
    expect(suite.attributes).toMatchObject({ tests: "3", failures: "1", skipped: "1" });
  });

  it("lists every check of a real run", async () => {
    const fake = createFakeFal({ imageWithoutUrl: true });
    const report = await runContract({
      baseUrl: "http://fake.test",
      fetch: fake.fetch,
      pollIntervalMs: 0,
      endpoints: ["fal-ai/flux-pro/kontext/text-to-image"],
    });
    const doc = parseXml(toJUnit(report));
    const cases = findAll(doc, "testcase");
    expect(cases).toHaveLength(report.checks.length);
    expect(findAll(doc, "failure")).toHaveLength(report.failed);
  });

  it("the checker itself rejects broken XML", () => {
    expect(() => parseXml("<a><b></a></b>")).toThrow();
    expect(() => parseXml('<a x="1 & 2"/>')).toThrow();
    expect(() => parseXml("<a>1 < 2</a>")).toThrow();
    expect(() => parseXml("<a/><b/>")).toThrow();
  });

  it("escapes the five XML characters", () => {
    expect(xml(`<&>"'`)).toBe("&lt;&amp;&gt;&quot;&apos;");
  });
});

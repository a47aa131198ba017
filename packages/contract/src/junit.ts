/**
 * JUnit XML for CI dashboards: one testcase per check, a <failure> listing its violations,
 * <skipped> for checks the image budget or an option left out.
 */
import { formatViolations } from "./matchers.js";
import type { ContractReport } from "./runner.js";

export interface JUnitOptions {
  /** The testsuite name; default `kontext contract`. */
  suiteName?: string;
  /** ISO timestamp for the suite; default now. */
  timestamp?: string;
}

export function toJUnit(report: ContractReport, options: JUnitOptions = {}): string {
  const suite = options.suiteName ?? "kontext contract";
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cases = report.checks.map((check) => {
    const attrs = `name="${xml(check.name)}" classname="${xml(check.endpoint ?? "protocol")}" time="${seconds(check.durationMs)}"`;
    if (check.skipped) return `    <testcase ${attrs}>\n      <skipped message="${xml(check.skipped)}"/>\n    </testcase>`;
    if (check.ok) return `    <testcase ${attrs}/>`;
    const first = check.violations[0];
    const message = first ? `${first.rule} at ${first.path}: ${first.message}` : "failed";
    const more = check.violations.length > 1 ? ` (+${check.violations.length - 1} more)` : "";
    return [
      `    <testcase ${attrs}>`,
      `      <failure message="${xml(message + more)}" type="${xml(first?.rule ?? "violation")}">${xml(formatViolations(check.violations, ""))}</failure>`,
      "    </testcase>",
    ].join("\n");
  });
  const stats = `tests="${report.checks.length}" failures="${report.failed}" errors="0" skipped="${report.skipped}" time="${seconds(report.durationMs)}"`;
  const properties = [
    ["baseUrl", report.baseUrl],
    ["imagesRequested", String(report.imagesRequested)],
    ["maxImages", Number.isFinite(report.maxImages) ? String(report.maxImages) : "unbounded"],
  ]
    .map(([name, value]) => `      <property name="${xml(name!)}" value="${xml(value!)}"/>`)
    .join("\n");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${xml(suite)}" ${stats}>`,
    `  <testsuite name="${xml(suite)}" ${stats} timestamp="${xml(options.timestamp ?? new Date().toISOString())}">`,
    "    <properties>",
    properties,
    "    </properties>",
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

/** Escapes text for XML attributes and content, and drops characters XML 1.0 cannot hold at all. */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

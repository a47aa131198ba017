/**
 * The human-readable report: one line per check, its violations with their JSON paths under it,
 * and a summary that always states how many images were requested (what a run may have cost).
 */
import { formatViolations } from "./matchers.js";
import type { Check, ContractReport } from "./runner.js";

export interface FormatOptions {
  /** ANSI colours for a terminal; default off so logs and files stay plain. */
  color?: boolean;
  /** Include each check's notes (request ids, tolerated races); default false. */
  verbose?: boolean;
}

export function formatReport(report: ContractReport, options: FormatOptions = {}): string {
  const paint = (code: number, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const lines: string[] = [];
  const checks = report.checks;
  for (let index = 0; index < checks.length; index++) {
    const check = checks[index]!;
    const label = checkLabel(check);
    if (check.skipped) {
      // An endpoint left out by the budget skips all its checks for one reason: one line, not seven.
      let last = index;
      while (checks[last + 1]?.skipped === check.skipped && checks[last + 1]?.endpoint === check.endpoint && check.endpoint)
        last++;
      const what =
        last > index ? `${last - index + 1} checks (${check.name} … ${checks[last]!.name}) · ${check.endpoint}` : label;
      lines.push(`${paint(33, "-")} ${what} (${check.skipped})`);
      index = last;
      continue;
    }
    const mark = check.ok ? paint(32, "✓") : paint(31, "✗");
    lines.push(`${mark} ${label} (${check.durationMs} ms)`);
    if (!check.ok) lines.push(formatViolations(check.violations, "    "));
    if (options.verbose && check.notes?.length) lines.push(...check.notes.map((n) => `    · ${n}`));
  }
  const budget = Number.isFinite(report.maxImages) ? ` (max ${report.maxImages})` : "";
  const summary =
    `${report.failed === 0 ? "PASS" : "FAIL"}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped` +
    ` · ${report.imagesRequested} image${report.imagesRequested === 1 ? "" : "s"} requested${budget}` +
    ` · ${report.baseUrl} · ${(report.durationMs / 1000).toFixed(1)} s`;
  lines.push("", report.failed === 0 ? paint(32, summary) : paint(31, summary));
  return lines.join("\n");
}

/** `status stream · fal-ai/flux-pro/kontext/max`, or just the name for protocol-wide checks. */
export function checkLabel(check: Check): string {
  return check.endpoint ? `${check.name} · ${check.endpoint}` : check.name;
}

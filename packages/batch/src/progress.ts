/**
 * Progress a person can read: one line rewritten in place on a terminal, or a plain line every few
 * seconds when the output is a file or a CI log (where `\r` would pile up), and a summary at the end.
 */
import type { BatchProgress, BatchSummary } from "./runner.js";

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressPrinter {
  update(progress: BatchProgress): void;
  /** Clears the live line and prints the summary. */
  finish(summary: BatchSummary): void;
}

export interface ProgressPrinterOptions {
  /** `tty`: one live line; `plain`: a line per interval; `none`: summary only. Default from `stream.isTTY`. */
  mode?: "tty" | "plain" | "none";
  /** Minimum ms between lines: default 100 on a terminal, 5,000 otherwise. */
  intervalMs?: number;
  now?: () => number;
}

export function createProgressPrinter(stream: ProgressStream, options: ProgressPrinterOptions = {}): ProgressPrinter {
  const mode = options.mode ?? (stream.isTTY ? "tty" : "plain");
  const interval = options.intervalMs ?? (mode === "tty" ? 100 : 5_000);
  const now = options.now ?? Date.now;
  let last = Number.NEGATIVE_INFINITY;
  let live = false;
  return {
    update(progress) {
      if (mode === "none") return;
      const t = now();
      if (t - last < interval) return;
      last = t;
      const line = progressLine(progress);
      if (mode === "tty") {
        const width = stream.columns && stream.columns > 20 ? stream.columns - 1 : 200;
        stream.write(`\r\x1b[2K${line.slice(0, width)}`);
        live = true;
      } else stream.write(`${line}\n`);
    },
    finish(summary) {
      if (live) stream.write("\r\x1b[2K");
      live = false;
      stream.write(`${summaryText(summary)}\n`);
    },
  };
}

/** `812/2000 done · 10 running · 1,150 queued · 3 failed · 1.9 jobs/s · ETA 10m 12s · 812 images` */
export function progressLine(p: BatchProgress): string {
  const parts = [
    `${p.done}/${p.total} done`,
    `${p.running} running`,
    `${p.queued} queued`,
    `${p.failed} failed${p.uncertain ? ` (${p.uncertain} uncertain)` : ""}`,
    `${p.throughput.toFixed(p.throughput < 10 ? 1 : 0)} jobs/s`,
    `ETA ${p.etaMs === undefined ? "?" : duration(p.etaMs)}`,
    `${p.images} image${p.images === 1 ? "" : "s"}`,
  ];
  return parts.join(" · ");
}

/** The end-of-run report: counts, failures by reason, uncertain jobs and what to do about them. */
export function summaryText(s: BatchSummary): string {
  const lines = [
    `${s.completed} of ${s.total} jobs completed, ${s.failed} failed, ${s.images} image${s.images === 1 ? "" : "s"} in ${s.out} (${duration(s.elapsedMs)})`,
  ];
  const reasons = Object.entries(s.byReason).map(([reason, n]) => `${reason} ${n}`);
  if (reasons.length) lines.push(`  failures: ${reasons.join(", ")}`);
  const runBits = [`${s.submitted} submitted`, `${s.followed} followed by request id`, `${s.skipped} already finished`];
  lines.push(`  this run: ${runBits.join(", ")}`);
  if (s.requests) lines.push(`  requests: ${s.requests.total} (${s.requests.perJob} per job)`);
  if (s.rateLimited) lines.push(`  429s: ${s.rateLimited}, concurrency now ${s.limit}`);
  if (s.webhooks)
    lines.push(
      `  webhooks: ${s.webhooks.delivered} delivered, ${s.webhooks.refused} refused, ${s.webhooks.swept} polled after a late delivery`,
    );
  if (s.uncertain.length) {
    const shown = s.uncertain.slice(0, 5).join(", ");
    lines.push(
      `  uncertain: ${s.uncertain.length} job${s.uncertain.length === 1 ? "" : "s"} (${shown}${s.uncertain.length > 5 ? ", ..." : ""}) may be queued and billed at fal; resume with --resubmit-uncertain to send them again`,
    );
  }
  if (s.stopped) lines.push("  stopped early: resume to continue (jobs in flight are followed, not sent again)");
  return lines.join("\n");
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

import { describe, expect, it } from "vitest";
import { type BatchProgress, type BatchSummary, createProgressPrinter, progressLine, summaryText } from "../src/index.js";

const progress: BatchProgress = {
  total: 2000,
  done: 812,
  failed: 3,
  running: 10,
  queued: 1175,
  uncertain: 1,
  images: 812,
  throughput: 1.94,
  etaMs: 612_000,
  elapsedMs: 420_000,
  limit: 10,
  requests: 5000,
};

const summary: BatchSummary = {
  out: "/tmp/out",
  total: 2000,
  completed: 1990,
  failed: 10,
  byReason: { model_error: 4, uncertain: 6 },
  uncertain: ["a", "b", "c", "d", "e", "f"],
  skipped: 100,
  followed: 7,
  submitted: 1893,
  images: 1990,
  requests: { total: 13_000, perJob: 6.5 },
  rateLimited: 12,
  limit: 6,
  elapsedMs: 1_000_000,
  stopped: false,
};

describe("progress", () => {
  it("reads as one line: done/running/queued/failed, throughput, ETA, images", () => {
    expect(progressLine(progress)).toBe(
      "812/2000 done · 10 running · 1175 queued · 3 failed (1 uncertain) · 1.9 jobs/s · ETA 10m 12s · 812 images",
    );
  });

  it("rewrites one line in place on a terminal and clears it before the summary", () => {
    const writes: string[] = [];
    let now = 0;
    const printer = createProgressPrinter({ write: (s) => writes.push(s), isTTY: true, columns: 80 }, { now: () => now });
    printer.update(progress);
    now += 10;
    printer.update({ ...progress, done: 813 }); // within the interval: not drawn
    now += 200;
    printer.update({ ...progress, done: 814 });
    printer.finish(summary);
    expect(writes.filter((w) => w.startsWith("\r\x1b[2K812/") || w.startsWith("\r\x1b[2K814/"))).toHaveLength(2);
    expect(writes.some((w) => w.includes("813/"))).toBe(false);
    expect(writes.at(-2)).toBe("\r\x1b[2K");
    expect(writes.at(-1)).toMatch(/^1990 of 2000 jobs completed/);
    // No line is wider than the terminal.
    for (const w of writes.filter((x) => x.includes("done"))) expect(w.replace("\r\x1b[2K", "").length).toBeLessThanOrEqual(79);
  });

  it("prints plain lines, no carriage returns, in a log", () => {
    const writes: string[] = [];
    const printer = createProgressPrinter({ write: (s) => writes.push(s) }, { intervalMs: 0 });
    printer.update(progress);
    printer.finish(summary);
    expect(writes.join("")).not.toContain("\r");
    expect(writes[0]).toMatch(/^812\/2000 done .*\n$/);
  });

  it("summarises failures by reason, the uncertain jobs and what to do about them", () => {
    const text = summaryText(summary);
    expect(text).toContain("failures: model_error 4, uncertain 6");
    expect(text).toContain("requests: 13000 (6.5 per job)");
    expect(text).toContain("429s: 12, concurrency now 6");
    expect(text).toMatch(/uncertain: 6 jobs \(a, b, c, d, e, \.\.\.\) .*--resubmit-uncertain/);
  });
});

/** `kontext batch status`: where a batch stands, read from its folder without touching it. */
import { join, resolve } from "node:path";
import type { FailureReason } from "./errors.js";
import { readJournal } from "./journal.js";
import { FILES, readBatchFolder } from "./output.js";

export interface BatchStatus {
  out: string;
  /** Jobs plus refused lines. */
  total: number;
  completed: number;
  failed: number;
  byReason: Partial<Record<FailureReason, number>>;
  /** Submitted with a known request id, not finished: a resume follows them. */
  submitted: number;
  /** Intent recorded, no request id: the submit's outcome is unknown. */
  uncertain: number;
  /** Not started. */
  pending: number;
  images: number;
  /** Bytes of a torn last journal line (a crash mid-write); dropped on resume. */
  tornBytes: number;
}

export async function batchStatus(out: string): Promise<BatchStatus> {
  const folder = resolve(out);
  const { manifest, jobs } = await readBatchFolder(folder);
  const replay = await readJournal(join(folder, FILES.journal));
  const status: BatchStatus = {
    out: folder,
    total: jobs.length + manifest.problems.length,
    completed: 0,
    failed: manifest.problems.length,
    byReason: manifest.problems.length ? { invalid_input: manifest.problems.length } : {},
    submitted: 0,
    uncertain: 0,
    pending: 0,
    images: 0,
    tornBytes: replay.tornBytes,
  };
  for (const job of jobs) {
    const state = replay.jobs.get(job.id);
    if (!state || state.state === "pending") status.pending++;
    else if (state.state === "submitted") status.submitted++;
    else if (state.state === "uncertain") status.uncertain++;
    else if (state.state === "completed") {
      status.completed++;
      status.images += state.summary.files.length;
    } else {
      status.failed++;
      status.byReason[state.error.reason] = (status.byReason[state.error.reason] ?? 0) + 1;
    }
  }
  return status;
}

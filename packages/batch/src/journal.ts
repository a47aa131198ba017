/**
 * The crash-safe journal: an append-only JSONL file in which every record is on disk (fsync'd)
 * before the runner acts on it. The one rule that makes resuming safe: a job's `intent` is durable
 * BEFORE its submit is sent, and its `submitted` record (the request id) right after the answer.
 * So after a crash every job is in one of four states:
 *   no record         → never sent: run it;
 *   intent only       → the submit may or may not have reached fal: `uncertain`, sent again only on request;
 *   submitted         → queued with a known request id: follow it, never submit again;
 *   completed/failed  → done: skip it.
 * A kill can tear the last line (written, not yet fsync'd, or cut mid-write); such a line was never
 * acted on, so it is dropped on open. Any other unreadable line is damage and stops the resume.
 */
import { open, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type JobError, JournalError } from "./errors.js";

/** What a finished job left behind, as written to the journal and `results.jsonl`. */
export interface JobSummary {
  requestId: string;
  /** The seed the model used (from the output), so the image can be made again. */
  seed?: number;
  /** Files written, relative to the output folder. */
  files: string[];
  /** Wall-clock milliseconds since the epoch. */
  timings: { submittedAt?: number; completedAt: number; inferenceMs?: number };
  /** HTTP requests this job cost (submit, status, stream, result; retries included), when counted. */
  requests?: number;
  /** True when the outcome came from a webhook delivery. */
  webhook?: boolean;
  /** The model's `has_nsfw_concepts`, per image. */
  nsfw?: boolean[];
}

export type JournalRecord =
  | { type: "intent"; id: string; at: number }
  | { type: "submitted"; id: string; requestId: string; at: number }
  /** The submit was refused (429, a refused connection): nothing was queued, the job may be sent again. */
  | { type: "released"; id: string; at: number; status?: number }
  | { type: "completed"; id: string; at: number; summary: JobSummary }
  | { type: "failed"; id: string; at: number; requestId?: string; requests?: number; error: JobError };

export type JobState =
  | { state: "pending" }
  | { state: "uncertain"; intentAt: number }
  | { state: "submitted"; requestId: string; submittedAt: number }
  | { state: "completed"; summary: JobSummary }
  | { state: "failed"; requestId?: string; error: JobError; requests?: number };

export interface ReplayResult {
  /** The last state of every job the journal mentions. */
  jobs: Map<string, JobState>;
  records: number;
  /** Bytes of a torn last line that was dropped (0 when the file ended cleanly). */
  tornBytes: number;
  /** Length of the readable part of the file. */
  validBytes: number;
}

/** Folds the journal's text into each job's last state. */
export function replayJournal(text: string): ReplayResult {
  const jobs = new Map<string, JobState>();
  const end = text.lastIndexOf("\n") + 1;
  let records = 0;
  let lineNo = 0;
  for (const line of text.slice(0, end).split("\n")) {
    lineNo++;
    if (line === "") continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      throw new JournalError(`journal line ${lineNo} is damaged (only a torn last line is expected after a crash)`, lineNo);
    }
    records++;
    applyRecord(jobs, record);
  }
  return { jobs, records, tornBytes: text.length - end, validBytes: Buffer.byteLength(text.slice(0, end)) };
}

/** One record's effect on the jobs' states (replay, and the runner's live view). */
export function applyRecord(jobs: Map<string, JobState>, record: JournalRecord): void {
  switch (record.type) {
    case "intent":
      jobs.set(record.id, { state: "uncertain", intentAt: record.at });
      return;
    case "submitted":
      jobs.set(record.id, { state: "submitted", requestId: record.requestId, submittedAt: record.at });
      return;
    case "released":
      jobs.set(record.id, { state: "pending" });
      return;
    case "completed":
      jobs.set(record.id, { state: "completed", summary: record.summary });
      return;
    case "failed":
      jobs.set(record.id, {
        state: "failed",
        error: record.error,
        ...(record.requestId ? { requestId: record.requestId } : {}),
        ...(record.requests !== undefined ? { requests: record.requests } : {}),
      });
      return;
    default:
      // A record type from a newer version: ignored, so an older runner can still resume.
      return;
  }
}

/** Reads a journal file; a missing file is an empty journal. */
export async function readJournal(path: string): Promise<ReplayResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { jobs: new Map(), records: 0, tornBytes: 0, validBytes: 0 };
    throw error;
  }
  return replayJournal(text);
}

export interface JournalWriter {
  /** Resolves once the record is on disk (written and fsync'd). */
  append(record: JournalRecord): Promise<void>;
  close(): Promise<void>;
  /** fsync calls made so far (records share them when they arrive together). */
  readonly syncs: number;
}

export interface OpenJournalOptions {
  /** Skip fsync (benchmarks of the rest, tests that do not crash). Default true. */
  fsync?: boolean;
}

/**
 * Opens a journal for appending, after replaying it and cutting a torn last line off, so the next
 * record starts on a line of its own. Records that arrive while a write is on its way are written and
 * fsync'd together (group commit): a thousand jobs in flight do not cost a thousand fsyncs each.
 */
export async function openJournal(
  path: string,
  options: OpenJournalOptions = {},
): Promise<{ writer: JournalWriter; replay: ReplayResult }> {
  const replay = await readJournal(path);
  const created = replay.records === 0 && replay.tornBytes === 0;
  const handle = await open(path, "a+");
  // A new file's name must survive a power cut too, not just its records: fsync the folder once.
  if (created) await syncDirectory(dirname(path));
  const size = (await stat(path)).size;
  if (size > replay.validBytes) await handle.truncate(replay.validBytes);
  const fsync = options.fsync !== false;
  let queue: { text: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let flushing: Promise<void> | undefined;
  let syncs = 0;

  async function flush() {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await handle.write(batch.map((r) => r.text).join(""));
        if (fsync) {
          await handle.datasync();
          syncs++;
        }
        for (const r of batch) r.resolve();
      } catch (error) {
        for (const r of batch) r.reject(error);
      }
    }
    flushing = undefined;
  }

  const writer: JournalWriter = {
    append(record) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ text: `${JSON.stringify(record)}\n`, resolve, reject });
        flushing ??= flush();
      });
    },
    async close() {
      await flushing;
      await handle.close();
    },
    get syncs() {
      return syncs;
    },
  };
  return { writer, replay };
}

/** fsync a folder, so entries created or renamed in it are durable (a no-op where folders cannot be opened). */
export async function syncDirectory(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    await handle.sync();
  } catch {
    // Windows cannot open a folder for fsync; its file system orders metadata itself.
  } finally {
    await handle?.close();
  }
}

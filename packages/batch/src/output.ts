/**
 * The output folder: the batch's own files (its jobs, its manifest, the journal), the images named by
 * job id, and `results.jsonl`, one line per job in input order.
 *
 *   batch.json      what was asked: source file, options, counts, refused lines
 *   jobs.jsonl      the checked jobs, copied, so `resume` needs nothing but the folder
 *   journal.jsonl   the crash-safe journal (see journal.ts)
 *   results.jsonl   one line per job: status, request id, seed, timings, files, requests, error
 *   <id>-<n>.<ext>  the images
 */
import { mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { KontextImage, KontextOutput } from "@kontext-sdk/schema";
import { decodeDataUri, IMAGE_EXTENSIONS, type ImageMime, imageMimeOf, sniffImageType } from "@kontext-sdk/schema/protocol";
import type { JobError } from "./errors.js";
import { BatchError } from "./errors.js";
import type { BatchJob, InputProblem } from "./input.js";
import { completedLine, failedLine, problemLine } from "./job-summary.js";
import { type JobState, type JobSummary, syncDirectory } from "./journal.js";

export const FILES = {
  manifest: "batch.json",
  jobs: "jobs.jsonl",
  journal: "journal.jsonl",
  results: "results.jsonl",
} as const;

export interface BatchManifest {
  version: 1;
  createdAt: string;
  /** The input file, when there was one. */
  source?: string;
  jobs: number;
  /** Lines refused up front (not run). */
  problems: InputProblem[];
}

/** One line of `results.jsonl`. */
export interface ResultLine {
  id: string;
  endpoint?: string;
  status: "completed" | "failed";
  requestId?: string;
  seed?: number;
  timings?: JobSummary["timings"];
  files?: string[];
  requests?: number;
  /** True when an attempt took the job over by its request id (BullMQ mode: its first worker died). */
  followed?: boolean;
  error?: JobError;
}

/** Writes a file so that a crash leaves either the old or the new one: a temporary file, fsync, rename. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

/** Creates the folder and writes the manifest and the job list, refusing a folder that already holds a batch. */
export async function createBatchFolder(out: string, jobs: readonly BatchJob[], manifest: BatchManifest): Promise<void> {
  await mkdir(out, { recursive: true });
  const existing = await readFile(join(out, FILES.manifest), "utf8").catch(() => undefined);
  if (existing !== undefined) throw new BatchError(`${out} already holds a batch: resume it, or choose another --out folder`);
  await writeFileAtomic(join(out, FILES.jobs), jobs.map((job) => `${JSON.stringify(job)}\n`).join(""));
  // The manifest last: a folder with a manifest always has its job list.
  await writeFileAtomic(join(out, FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Reads back what `createBatchFolder` wrote. */
export async function readBatchFolder(out: string): Promise<{ manifest: BatchManifest; jobs: BatchJob[] }> {
  let manifestText: string;
  try {
    manifestText = await readFile(join(out, FILES.manifest), "utf8");
  } catch {
    throw new BatchError(`${out} holds no batch (no ${FILES.manifest}); start one with run`);
  }
  const manifest = JSON.parse(manifestText) as BatchManifest;
  const jobsText = await readFile(join(out, FILES.jobs), "utf8");
  const jobs = jobsText
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as BatchJob);
  return { manifest, jobs };
}

/** `results.jsonl` from the journal's states, in input order, the refused lines included. */
export function resultLines(
  jobs: readonly BatchJob[],
  states: ReadonlyMap<string, JobState>,
  problems: readonly InputProblem[],
): ResultLine[] {
  const lines: ResultLine[] = [];
  for (const job of jobs) {
    const state = states.get(job.id);
    if (state?.state === "completed") lines.push(completedLine(job, state.summary));
    else if (state?.state === "failed") lines.push(failedLine(job, state));
  }
  for (const problem of problems) lines.push(problemLine(problem));
  return lines;
}

export async function writeResults(out: string, lines: readonly ResultLine[]): Promise<void> {
  await writeFileAtomic(join(out, FILES.results), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
}

/**
 * Downloads (or decodes) a job's images into the folder as `<id>-<n>.<ext>` and returns their names.
 * Written under a temporary name and renamed, so a kill never leaves half an image under the real name.
 */
export async function saveImages(
  out: string,
  id: string,
  output: KontextOutput,
  fetcher: typeof fetch,
  signal?: AbortSignal,
): Promise<string[]> {
  return Promise.all(
    output.images.map(async (image, index) => {
      const { bytes, mime } = await imageBytes(image, fetcher, signal);
      const type: ImageMime | undefined = sniffImageType(bytes) ?? imageMimeOf(image.content_type) ?? imageMimeOf(mime);
      const name = `${id}-${index}.${type ? IMAGE_EXTENSIONS[type] : "bin"}`;
      const temporary = join(out, `.${name}.tmp`);
      await writeFile(temporary, bytes);
      await rename(temporary, join(out, name));
      return name;
    }),
  );
}

async function imageBytes(
  image: KontextImage,
  fetcher: typeof fetch,
  signal?: AbortSignal,
): Promise<{ bytes: Uint8Array; mime?: string }> {
  const inline = decodeDataUri(image.url);
  if (inline) return inline;
  const url = new URL(image.url);
  // A server-chosen URL is followed only over http(s).
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new BatchError(`image URL has the ${url.protocol} scheme; only http(s) and data URIs are read`);
  const response = await fetcher(url, signal ? { signal } : {});
  if (!response.ok) throw new BatchError(`image download failed with HTTP ${response.status} from ${url.origin}`);
  const mime = response.headers.get("content-type") ?? undefined;
  return { bytes: new Uint8Array(await response.arrayBuffer()), ...(mime ? { mime } : {}) };
}

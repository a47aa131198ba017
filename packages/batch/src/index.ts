/**
 * @kontext-sdk/batch — thousands of FLUX.1 Kontext jobs from a file, with a crash-safe journal:
 * nothing lost, nothing submitted twice without being asked. This file is the table of contents.
 *
 *   runner.ts     runBatch / resumeBatch: what to submit, what to follow, what to skip; the summary
 *   journal.ts    the append-only, fsync'd journal and its replay (torn last line tolerated)
 *   input.ts      JSONL / CSV / iterables → checked jobs, bad lines with their line number and field
 *   limiter.ts    the adaptive cap: halves on 429, grows back slowly
 *   engine.ts     submit / follow on the client's job handle
 *   meter.ts      a counting fetch: requests per job, 429s for the limiter
 *   webhooks.ts   webhook mode: verified deliveries, a sweep for late ones
 *   output.ts     the folder: images by job id, results.jsonl, the job list and manifest
 *   status.ts     where a batch stands, read-only
 *   progress.ts   the live line, plain lines, the summary
 *   redis.ts      (subpath ./redis) the same jobs on BullMQ, for many machines
 */
export {
  clientEngine,
  type EngineJob,
  type FollowMode,
  type FollowOptions,
  type JobEngine,
  type StartOptions,
} from "./engine.js";
export {
  BatchError,
  FAILURE_REASONS,
  type FailureReason,
  isConnectionRefused,
  type JobError,
  JournalError,
  submitOutcomeUnknown,
  toJobError,
} from "./errors.js";
export {
  type BatchJob,
  checkJobs,
  type InputProblem,
  numbered,
  parseCsv,
  parseCsvJobs,
  parseJsonlJobs,
  problemError,
  type ReadJobsOptions,
  type ReadJobsResult,
  readJobsFile,
} from "./input.js";
export {
  applyRecord,
  type JobState,
  type JobSummary,
  type JournalRecord,
  type JournalWriter,
  type OpenJournalOptions,
  openJournal,
  type ReplayResult,
  readJournal,
  replayJournal,
} from "./journal.js";
export { AdaptiveLimiter, type AdaptiveLimiterOptions, type LimiterSnapshot } from "./limiter.js";
export { createRequestMeter, type RequestMeter } from "./meter.js";
export { type BatchManifest, FILES, type ResultLine, readBatchFolder, saveImages } from "./output.js";
export {
  createProgressPrinter,
  type ProgressPrinter,
  type ProgressPrinterOptions,
  type ProgressStream,
  progressLine,
  summaryText,
} from "./progress.js";
export {
  BatchInputError,
  type BatchProgress,
  type BatchRunOptions,
  type BatchSummary,
  DEFAULT_CONCURRENCY,
  type RunBatchOptions,
  resumeBatch,
  runBatch,
  STREAM_UP_TO,
} from "./runner.js";
export { type BatchStatus, batchStatus } from "./status.js";
export { listenForWebhooks, WebhookInbox, type WebhookListener, type WebhookModeOptions } from "./webhooks.js";

/**
 * The public shapes of a conversation run: its options, its checks and its report. They live apart
 * from the run itself so every check module can name them without importing the orchestrator.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import type { Violation } from "../validate-response.js";

/**
 * The checks a run can hold: an endpoint's job checks in report order, then the protocol-wide ones.
 * `credentials` (last here, added later) runs first, and only in a run without a key.
 */
export const CHECK_NAMES = [
  "submit",
  "result before completion",
  "status without logs",
  "status with logs",
  "status stream",
  "poll to completion",
  "result",
  "cancel",
  "invalid input",
  "unknown request id",
  "sync run",
  "credentials",
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** The checks of one endpoint's job, in the order they run. */
export const JOB_CHECKS = CHECK_NAMES.slice(0, 7) as readonly CheckName[];

export interface Check {
  name: CheckName;
  /** The endpoint the check ran against; absent for protocol-wide checks. */
  endpoint?: EndpointId;
  ok: boolean;
  violations: Violation[];
  durationMs: number;
  /** Why the check did not run (the image budget, an earlier failure, an option); a skipped check is ok. */
  skipped?: string;
  /** Facts worth a line in the report, e.g. the request id or a race that was tolerated. */
  notes?: string[];
}

export interface ContractReport {
  baseUrl: string;
  syncBaseUrl?: string;
  endpoints: EndpointId[];
  checks: Check[];
  /** Sum of `num_images` over every submit the runner sent (including the one it cancels and the invalid one). */
  imagesRequested: number;
  maxImages: number;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
}

export interface ContractOptions {
  /** The queue host to check; default fal's `https://queue.fal.run`. */
  baseUrl?: string;
  /** The sync host; when given, one synchronous run is checked too (it costs one image). */
  syncBaseUrl?: string;
  /** `Key` (fal) or `Bearer` (gateways); default `Key`. */
  authScheme?: "Key" | "Bearer";
  /** The key or token; sent only to the base URLs, never printed. Leave out for servers without auth. */
  credentials?: string;
  /** Which endpoints get a job each; default all six. */
  endpoints?: readonly EndpointId[];
  /**
   * Upper bound on images the run may request (each submit asks for one). Submits that would
   * exceed it are skipped and the report says so. Default: no bound — pass one against a paid API.
   */
  maxImages?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** How long one job may take to reach COMPLETED; default 180 s. */
  timeoutMs?: number;
  /** Limit for one HTTP call; default 30 s. */
  requestTimeoutMs?: number;
  /** Pause between status polls; default 500 ms (fal-js's interval). */
  pollIntervalMs?: number;
  /** Do not report `foreign-origin` (gateways that answer with fal's URLs, spec/DECISIONS.md #9). */
  allowForeignUrls?: boolean;
  /** Input image for edit and multi endpoints; default a 16×16 PNG data URI, so nothing is fetched. */
  imageUrl?: string;
  /** Checks to leave out, e.g. `invalid input` behind a proxy that validates requests itself. */
  skip?: readonly CheckName[];
  /** Called as each check finishes, for progress output. */
  onCheck?: (check: Check) => void;
}

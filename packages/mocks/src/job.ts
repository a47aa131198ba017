/**
 * One job: what was submitted, when it starts and ends, how it failed (if it did), and the timers and
 * status streams hanging off it. Its state is read from the clock, never stored.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import type { CancelTimer, MockClock } from "./clock.js";
import { type Generation, type GenerationInput, generate } from "./outputs.js";
import { type JobInstants, type Phase, phaseAt, queueMs, type ResolvedTimeline, runMs } from "./timeline.js";

export type JobState = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

/** What went wrong with a job, served by its result. */
export interface JobFailure {
  status: number;
  body: unknown;
  errorType?: string;
  /** A short description for the COMPLETED status and the webhook. */
  error: string;
  /** Extra headers on the result's answer. */
  headers?: Record<string, string>;
  /** True when the job never ran to the end (cancelled, timed out, refused input): no inference time. */
  stoppedEarly?: boolean;
}

export interface MockJob {
  readonly requestId: string;
  readonly endpoint: EndpointId;
  /** The input as submitted (validated, unless the job fails at its result because it is invalid). */
  readonly input: Record<string, unknown>;
  /** Clock time of submit. */
  readonly submittedAt: number;
  /** Clock time at which the job starts (or started) running; +Infinity when it never will. */
  readonly startsAt: number;
  /** Clock time at which the job is (or will be) COMPLETED. */
  readonly completedAt: number;
  /** The state now, derived from the clock. */
  readonly state: JobState;
  /** True for jobs created by a sync run. */
  readonly sync: boolean;
  /** True when a running job was cancelled. */
  readonly cancelled: boolean;
  /** Set when the job fails (invalid input, fault, start timeout or cancellation); its result serves this error. */
  readonly failure: JobFailure | undefined;
  /** The `fal_webhook` URL given at submit. */
  readonly webhookUrl: string | undefined;
}

export interface JobInit {
  requestId: string;
  endpoint: EndpointId;
  input: Record<string, unknown>;
  submittedAt: number;
  timeline: ResolvedTimeline;
  clock: MockClock;
  /** The queue base URL the job was submitted to; webhooks build file URLs from it. */
  base: string;
  webhookUrl: string | undefined;
  sync: boolean;
}

export class Job implements MockJob {
  readonly requestId: string;
  readonly endpoint: EndpointId;
  readonly input: Record<string, unknown>;
  readonly submittedAt: number;
  readonly timeline: ResolvedTimeline;
  readonly base: string;
  readonly webhookUrl: string | undefined;
  readonly sync: boolean;
  /** The earliest the job may start: the end of its own queue steps. */
  readonly readyAt: number;
  /** When it starts running; the job store moves it when a concurrency limit holds it back. */
  startsAt: number;
  /** Set when the job ends before running its course (cancelled, timed out, sync). */
  endedAt: number | undefined;
  failure: JobFailure | undefined;
  cancelled = false;
  /** Called on every change a status stream must see at once (cancel, reschedule, removal). */
  readonly listeners = new Set<() => void>();
  /** Timers owned by the job (webhook deliveries); expiry and reset cancel them. */
  readonly timers = new Set<CancelTimer>();
  private readonly clock: MockClock;
  private rendered: Generation | undefined;

  constructor(init: JobInit) {
    this.requestId = init.requestId;
    this.endpoint = init.endpoint;
    this.input = init.input;
    this.submittedAt = init.submittedAt;
    this.timeline = init.timeline;
    this.clock = init.clock;
    this.base = init.base;
    this.webhookUrl = init.webhookUrl;
    this.sync = init.sync;
    this.readyAt = init.submittedAt + queueMs(init.timeline);
    this.startsAt = this.readyAt;
    if (init.sync) this.endedAt = init.submittedAt;
  }

  /** Rendered on first use (result, files, webhook, final status): submit stays cheap under load. */
  get generation(): Generation {
    this.rendered ??= generate(this.endpoint, this.input as unknown as GenerationInput);
    return this.rendered;
  }

  get completedAt(): number {
    return this.endedAt ?? this.startsAt + runMs(this.timeline);
  }

  get instants(): JobInstants {
    return { submittedAt: this.submittedAt, startAt: this.startsAt, endAt: this.completedAt };
  }

  get state(): JobState {
    return this.phase().state;
  }

  phase(now = this.clock.now()): Phase {
    return phaseAt(this.timeline, this.instants, now);
  }

  /** True while the job holds a running slot. */
  isRunning(now: number): boolean {
    return this.phase(now).state === "IN_PROGRESS";
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  dispose(): void {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }
}

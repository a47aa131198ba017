/**
 * The live jobs, in submit order: request ids, expiry, and the account's concurrency limit.
 *
 * fal counts only running jobs toward an account's limit (2 for a new account); the others wait
 * IN_QUEUE. With `concurrencyLimit` set, each job starts at the later of the end of its own queue steps
 * and the moment a running slot frees up, first come first served. Start times are worked out when a job
 * is submitted and again whenever a job leaves early (cancel, start timeout), so the phase of every job
 * stays a pure function of the clock.
 */
import type { MockClock } from "./clock.js";
import { seededRandom } from "./images/picture.js";
import { Job, type JobInit } from "./job.js";
import { runMs } from "./timeline.js";

export interface JobStoreOptions {
  clock: MockClock;
  /** How long after completion a job is forgotten (fal keeps results 1 h, ~6 min when they are large). */
  retentionMs(job: Job): number;
  /** Jobs that may run at once; undefined for no limit. */
  concurrencyLimit: number | undefined;
  /** Seeds request ids, for repeatable runs. */
  seed: number | undefined;
  /** Called for each job whose start moved (its completion webhook must move too). */
  onRescheduled(job: Job): void;
}

export class JobStore {
  readonly jobs = new Map<string, Job>();
  /** When each running slot frees up, as of the last scheduling (concurrency limit only). */
  private slotsFreeAt: number[];
  private readonly random: (() => number) | undefined;

  constructor(private readonly options: JobStoreOptions) {
    this.random = options.seed === undefined ? undefined : seededRandom(options.seed);
    this.slotsFreeAt = this.emptySlots(Number.NEGATIVE_INFINITY);
  }

  /** A UUID v4, from the seeded generator when there is one. */
  newId(): string {
    if (!this.random && typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const random = this.random ?? Math.random;
    const digits = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
    digits[12] = "4";
    digits[16] = "89ab"[Math.floor(random() * 4)]!;
    const hex = digits.join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Creates a job and gives it a start time (after the jobs already waiting, under a limit). */
  add(init: Omit<JobInit, "requestId">): Job {
    const job = new Job({ ...init, requestId: this.newId() });
    if (!job.sync && this.options.concurrencyLimit !== undefined) this.takeSlot(job);
    this.jobs.set(job.requestId, job);
    return job;
  }

  /** The job with this id, unless it expired. */
  get(requestId: string): Job | undefined {
    const job = this.jobs.get(requestId);
    if (job && this.expired(job, this.options.clock.now())) {
      this.forget(job);
      return undefined;
    }
    return job;
  }

  /** Drops expired jobs from the front; jobs are in submit order, so this stops early. */
  sweep(): void {
    const now = this.options.clock.now();
    for (const job of this.jobs.values()) {
      if (!this.expired(job, now)) break;
      this.forget(job);
    }
  }

  /** A queued job cancelled: gone at once; the jobs behind it may start sooner. */
  remove(job: Job): void {
    this.forget(job);
    job.notify();
    this.reschedule();
  }

  /** A job that stops before its course is run (cancelled, or its start timeout expired). */
  end(job: Job, at: number): void {
    job.endedAt = at;
    if (at < job.startsAt) job.startsAt = Number.POSITIVE_INFINITY;
    this.reschedule();
  }

  /** Forgets every job and cancels their timers; open status streams end. */
  clear(): void {
    for (const job of [...this.jobs.values()]) {
      this.forget(job);
      job.notify();
    }
    this.slotsFreeAt = this.emptySlots(Number.NEGATIVE_INFINITY);
  }

  /**
   * Jobs ahead of this one: its own countdown, or the jobs submitted before it still waiting when a
   * concurrency limit holds the queue, whichever is more.
   */
  queuePosition(job: Job, now: number): number {
    const phase = job.phase(now);
    if (phase.state !== "IN_QUEUE") return 0;
    if (this.options.concurrencyLimit === undefined) return phase.queuePosition;
    let ahead = 0;
    for (const other of this.jobs.values()) {
      if (other === job) break;
      if (!other.sync && other.phase(now).state === "IN_QUEUE") ahead++;
    }
    return Math.max(phase.queuePosition, ahead);
  }

  /** How many jobs of an app wait IN_QUEUE now (for `fal_max_queue_length`). */
  waitingCount(isSameApp: (job: Job) => boolean, now: number): number {
    let waiting = 0;
    for (const job of this.jobs.values()) if (!job.sync && isSameApp(job) && job.phase(now).state === "IN_QUEUE") waiting++;
    return waiting;
  }

  /** The next time a job ahead of this one starts (its queue position moves then), under a limit. */
  nextStartAhead(job: Job, now: number): number | undefined {
    if (this.options.concurrencyLimit === undefined) return undefined;
    let next = Number.POSITIVE_INFINITY;
    for (const other of this.jobs.values()) {
      if (other === job) break;
      if (other.startsAt > now && other.startsAt < next) next = other.startsAt;
    }
    return Number.isFinite(next) ? next : undefined;
  }

  private expired(job: Job, now: number): boolean {
    // The retention depends on the result's size, which only exists once the job has completed.
    return now >= job.completedAt && now >= job.completedAt + this.options.retentionMs(job);
  }

  private forget(job: Job): void {
    job.dispose();
    this.jobs.delete(job.requestId);
  }

  private emptySlots(freeAt: number): number[] {
    return Array.from({ length: this.options.concurrencyLimit ?? 0 }, () => freeAt);
  }

  /** Starts `job` in the slot that frees up first, no earlier than its own queue steps allow. */
  private takeSlot(job: Job): void {
    let slot = 0;
    for (let index = 1; index < this.slotsFreeAt.length; index++) {
      if (this.slotsFreeAt[index]! < this.slotsFreeAt[slot]!) slot = index;
    }
    job.startsAt = Math.max(job.readyAt, this.slotsFreeAt[slot]!);
    this.slotsFreeAt[slot] = job.startsAt + runMs(job.timeline);
  }

  /**
   * Works the start times out again after a job left early: the running jobs keep their slots, and the
   * waiting ones, in submit order, take the slots as they free up (from now on).
   */
  private reschedule(): void {
    if (this.options.concurrencyLimit === undefined) return;
    const now = this.options.clock.now();
    const running: number[] = [];
    const waiting: Job[] = [];
    for (const job of this.jobs.values()) {
      if (job.sync) continue;
      if (job.isRunning(now)) running.push(job.completedAt);
      else if (job.startsAt > now && job.endedAt === undefined) waiting.push(job);
    }
    this.slotsFreeAt = [...running, ...this.emptySlots(now)].slice(0, Math.max(running.length, this.options.concurrencyLimit));
    for (const job of waiting) {
      const before = job.startsAt;
      this.takeSlot(job);
      if (job.startsAt !== before) {
        this.options.onRescheduled(job);
        job.notify();
      }
    }
  }
}

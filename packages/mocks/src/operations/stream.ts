/**
 * The status stream (SSE): one `data:` event per change of the status body, a `: keep-alive` comment
 * through quiet stretches, closed after COMPLETED (or when a queued job is cancelled away). It sleeps on
 * the mock's clock until the next instant anything can change, and wakes early when the job is told of a
 * change (cancel, reschedule). A `stream-drop` fault breaks it after N events.
 */
import { FAL_HEADERS } from "@kontext-sdk/schema/protocol";
import { statusBody } from "../answers.js";
import type { CancelTimer } from "../clock.js";
import type { MockState } from "../context.js";
import type { Job } from "../job.js";
import { nextChange } from "../timeline.js";
import { wantsLogs } from "./status.js";

const encoder = new TextEncoder();
const dropped = () => new Error("status stream dropped by a fault");

export interface StreamOptions {
  job: Job;
  origin: string;
  url: URL;
  signal: AbortSignal | null;
  /** Break the stream after this many events (a `stream-drop` fault). */
  dropAfter: number | undefined;
}

export function stream(state: MockState, options: StreamOptions): Response {
  const body = new StatusStream(state, options).body;
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", [FAL_HEADERS.requestId]: options.job.requestId },
  });
}

class StatusStream {
  readonly body: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private lastSent = "";
  private sent = 0;
  private lastWrite: number;
  private wakeTimer: CancelTimer | undefined;
  private done = false;
  private dropping = false;
  private readonly withLogs: boolean;

  constructor(
    private readonly state: MockState,
    private readonly options: StreamOptions,
  ) {
    this.withLogs = wantsLogs(options.url);
    this.lastWrite = state.clock.now();
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
        options.job.listeners.add(this.onChange);
        options.signal?.addEventListener("abort", this.stop, { once: true });
        this.tick();
      },
      // Break only once the events already sent were read, as a socket would deliver them first.
      pull: (controller) => {
        if (this.dropping) controller.error(dropped());
      },
      cancel: () => this.stop(),
    });
  }

  private readonly onChange = () => {
    this.wakeTimer?.();
    this.tick();
  };

  private readonly stop = () => {
    this.done = true;
    this.wakeTimer?.();
    this.options.job.listeners.delete(this.onChange);
    this.options.signal?.removeEventListener("abort", this.stop);
  };

  private close() {
    this.stop();
    this.controller.close();
  }

  private tick() {
    if (this.done) return;
    this.wakeTimer = undefined;
    const { job } = this.options;
    // A queued job that was cancelled is gone: end the stream without a COMPLETED event.
    if (!this.state.store.jobs.has(job.requestId)) return this.close();
    // One reading of the clock per tick: the state sent and the next wake-up must agree.
    const now = this.state.clock.now();
    const status = statusBody(this.state.store, job, this.options.origin, this.withLogs, now);
    const text = JSON.stringify(status);
    if (text === this.lastSent && now - this.lastWrite >= this.state.keepAliveMs) this.write(": keep-alive\n\n", now);
    if (text !== this.lastSent) {
      if (this.options.dropAfter !== undefined && this.sent >= this.options.dropAfter) return this.drop();
      this.lastSent = text;
      this.sent++;
      this.write(`data: ${text}\n\n`, now);
    }
    if (status.status === "COMPLETED") return this.close();
    this.sleepUntilNextChange(now);
  }

  private write(text: string, now: number) {
    this.controller.enqueue(encoder.encode(text));
    this.lastWrite = now;
  }

  private drop() {
    this.stop();
    this.dropping = true;
    if ((this.controller.desiredSize ?? 0) > 0) this.controller.error(dropped());
  }

  /** Own step edges, the start of a job ahead (the queue position moves), and the keep-alive. */
  private sleepUntilNextChange(now: number) {
    const { job } = this.options;
    const wake = Math.min(
      nextChange(job.timeline, job.instants, now) ?? Number.POSITIVE_INFINITY,
      this.state.store.nextStartAhead(job, now) ?? Number.POSITIVE_INFINITY,
      this.lastWrite + this.state.keepAliveMs,
    );
    if (Number.isFinite(wake)) this.wakeTimer = this.state.setTimer(() => this.tick(), Math.max(0, wake - now));
  }
}

/**
 * What stops a queued job early while `kontext generate|edit|multi` follows it: Ctrl-C and `--timeout`.
 * Both go through the client's job handle, which owns the hard part: `--timeout` is the handle's own
 * whole-job `timeout` (it cancels the job on the server and its waits end with `KontextTimeoutError`),
 * and Ctrl-C calls `job.cancel()` (sent as soon as the request id is known; the waits then end with
 * `KontextCancelledError`). This module only decides when to cancel, how long to wait for the cancel,
 * and what to tell the person.
 */
import type { KontextJob } from "@kontext-sdk/client";
import type { EndpointId } from "@kontext-sdk/schema";
import { describeError, EXIT, InterruptedError } from "../errors.js";
import type { CliIO } from "../io.js";
import type { Progress } from "../progress.js";

/** Why the job was stopped from here. */
export type StopReason = { kind: "interrupted" } | { kind: "timeout"; ms: number };

export interface JobWatch {
  /** Set once Ctrl-C or `--timeout` stopped the job. */
  readonly stopped: StopReason | undefined;
  /** `promise`, unless a second Ctrl-C gives up first (then an `InterruptedError`). */
  unlessAbandoned<T>(promise: Promise<T>): Promise<T>;
  /** The job handle's `timeout` of `ms` ran out (it has cancelled the job): reported as a timeout. */
  timedOut(ms: number): void;
  /** The job delivered its result: from here on a Ctrl-C only stops the download. */
  finished(): void;
  /** The download's signal: aborted by a Ctrl-C after the job finished. */
  readonly downloadSignal: AbortSignal;
  /** Reports how the stop went (waiting for the cancel unless a second Ctrl-C said not to); the exit code. */
  report(requestId: string | undefined): Promise<number>;
  dispose(): void;
}

export interface WatchOptions {
  io: CliIO;
  progress: Progress;
  /** The command that finishes the job off, for when the cancel could not be confirmed. */
  cancelCommand: (requestId: string) => string;
}

/**
 * Watches one job. The first Ctrl-C calls `job.cancel()`; a second Ctrl-C gives up on the cancel at once
 * and prints the command that finishes the job off. After the handle's timeout, `job.cancel()` returns
 * the cancel the handle already sent, so the report waits for that one.
 */
export function watchJob<E extends EndpointId>(job: KontextJob<E>, options: WatchOptions): JobWatch {
  const { io, progress } = options;
  const download = new AbortController();
  let stopped: StopReason | undefined;
  let done = false;
  let cancelling: Promise<"cancelled" | { failed: unknown }> | undefined;
  let giveUp: (error: InterruptedError) => void = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    giveUp = reject;
  });
  abandoned.catch(() => {});

  const stop = (reason: StopReason) => {
    stopped ??= reason;
    cancelling ??= job.cancel().then(
      () => "cancelled" as const,
      (error: unknown) => ({ failed: error }),
    );
  };
  let knownId: string | undefined;
  void job.requestId.then(
    (id) => {
      knownId = id;
    },
    () => {},
  );

  const unlisten = io.onInterrupt(() => {
    if (stopped?.kind === "interrupted" || (done && download.signal.aborted)) {
      giveUp(new InterruptedError());
      return;
    }
    if (done) {
      download.abort(new InterruptedError());
      return;
    }
    progress.print(
      io.stderr,
      knownId ? "Interrupted, cancelling..." : "Interrupted, waiting for the request id to cancel the job...",
    );
    stop({ kind: "interrupted" });
  });

  return {
    get stopped() {
      return stopped;
    },
    unlessAbandoned: (promise) => Promise.race([promise, abandoned]),
    timedOut: (ms) => stop({ kind: "timeout", ms }),
    finished() {
      done = true;
    },
    downloadSignal: download.signal,
    async report(requestId) {
      const outcome = cancelling ? await Promise.race([cancelling, abandoned.catch(() => "gave-up" as const)]) : undefined;
      unlisten();
      const line = describeStop(stopped, outcome, requestId ?? knownId, options.cancelCommand, io.redact);
      io.stderr.write(`${line}\n`);
      return stopped?.kind === "timeout" ? EXIT.failure : EXIT.interrupted;
    },
    dispose() {
      unlisten();
    },
  };
}

/** The one line that says how a stopped job ended. */
function describeStop(
  stopped: StopReason | undefined,
  outcome: "cancelled" | "gave-up" | { failed: unknown } | undefined,
  requestId: string | undefined,
  cancelCommand: (requestId: string) => string,
  redact: CliIO["redact"],
): string {
  const job = requestId ? `request ${requestId}` : "the job";
  const head = stopped?.kind === "timeout" ? `error: timed out after ${stopped.ms / 1000} s` : "Interrupted";
  if (outcome === "cancelled") {
    return requestId ? `${head}; cancelled ${job} on the server.` : `${head} before the submit was answered; no job was queued.`;
  }
  if (outcome === "gave-up" || outcome === undefined) {
    return requestId
      ? `${head}; ${job} may still run. Cancel it with: ${cancelCommand(requestId)}`
      : `${head} before the submit was answered; if it reached the server, the job may still run.`;
  }
  const retry = requestId ? ` Try: ${cancelCommand(requestId)}` : "";
  return `${head}; could not cancel ${job} (${describeError(outcome.failed, { redact })}); it may still run.${retry}`;
}

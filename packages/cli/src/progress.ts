/**
 * Showing a running job: a live status line (ora) on a terminal, one plain line per change when
 * the output is a file or a pipe (CI logs stay readable), nothing at all for `--json`.
 * Progress goes to stderr so stdout carries only results.
 */
import type { LogEntry, QueueStatus } from "@kontext-sdk/schema";
import { escapeControl, truncate } from "@kontext-sdk/schema/protocol";
import ora, { type Ora } from "ora";
import type { CliIO, OutputStream } from "./io.js";

export type ProgressMode = "live" | "plain" | "quiet";

export interface Progress {
  /** A new queue status from the client. */
  update(status: QueueStatus): void;
  /** Changes the state shown before any status arrived (e.g. "submitting", "running"). */
  phase(label: string): void;
  /** Writes a whole line without tearing the live status line. */
  print(stream: OutputStream, line: string): void;
  /** Leaves the terminal clean; `final` replaces the live line with a last one. */
  stop(final?: string): void;
}

/** Picks the mode: live only on a real, capable terminal. */
export function progressMode(io: CliIO, json: boolean): ProgressMode {
  if (json) return "quiet";
  const dumb = io.env.TERM === "dumb" || Boolean(io.env.CI);
  // A terminal of width 0 (an unsized pty) would make the spinner's line arithmetic divide by zero.
  return io.stderr.isTTY && (io.stderr.columns ?? 0) > 0 && !dumb ? "live" : "plain";
}

const STATE_WORDS: Record<QueueStatus["status"], string> = {
  IN_QUEUE: "in queue",
  IN_PROGRESS: "in progress",
  COMPLETED: "completed",
};

export function createProgress(io: CliIO, mode: ProgressMode, initialPhase = "submitting"): Progress {
  const tracker = createTracker(io, initialPhase);
  if (mode === "quiet") {
    return { update: () => {}, phase: () => {}, print: (stream, line) => stream.write(`${line}\n`), stop: () => {} };
  }
  return mode === "plain" ? plainProgress(io, tracker) : liveProgress(io, tracker);
}

/** What every mode shows of a job: its state words, queue position, newest log line and elapsed time. */
interface JobTracker {
  /** Changed by the renderers' `phase`, and by `apply`. */
  readonly state: { label: string; position: number | undefined; log: string };
  elapsed(): string;
  /** The live line: state, position, elapsed time and newest log line. */
  describe(): string;
  /** Takes in a status; says whether the state or position changed, and which log lines are new. */
  apply(status: QueueStatus): { changed: boolean; logs: LogEntry[] };
  /** A server's log line made safe for one status line (see logLine). */
  oneLine(text: string): string;
}

function createTracker(io: CliIO, initialPhase: string): JobTracker {
  const started = io.now();
  const oneLine = logLine(io.redact);
  const state = { label: initialPhase, position: undefined as number | undefined, log: "" };
  const seenLogs = new Set<string>();
  const elapsed = () => `${((io.now() - started) / 1000).toFixed(1)}s`;
  const describe = () =>
    [state.label, state.position !== undefined ? `position ${state.position}` : "", elapsed(), state.log]
      .filter(Boolean)
      .join(" · ");

  /** Only the log lines not shown yet: statuses may repeat the whole log every time. */
  const freshLogs = (logs: readonly LogEntry[] | null | undefined) => {
    const fresh: LogEntry[] = [];
    for (const entry of logs ?? []) {
      const key = `${entry.timestamp ?? ""}\u0000${entry.message}`;
      if (!seenLogs.has(key)) {
        seenLogs.add(key);
        fresh.push(entry);
      }
    }
    return fresh;
  };

  const apply = (status: QueueStatus) => {
    const before = `${state.label}|${state.position}`;
    state.label = STATE_WORDS[status.status] ?? status.status;
    state.position = status.status === "IN_QUEUE" ? status.queue_position : undefined;
    const logs = freshLogs(status.logs);
    const last = logs.at(-1);
    if (last) state.log = oneLine(last.message);
    return { changed: before !== `${state.label}|${state.position}`, logs };
  };

  return { state, elapsed, describe, apply, oneLine };
}

/** One timestamped line on stderr per change of state and per new log line. */
function plainProgress(io: CliIO, tracker: JobTracker): Progress {
  const { state, elapsed, apply, oneLine } = tracker;
  const line = (text: string) => io.stderr.write(`[${elapsed()}] ${text}\n`);
  line(state.label);
  return {
    update(status) {
      const { changed, logs } = apply(status);
      if (changed) line(state.position !== undefined ? `${state.label} (position ${state.position})` : state.label);
      for (const entry of logs) line(`log: ${oneLine(entry.message)}`);
    },
    phase(label) {
      state.label = label;
      line(label);
    },
    print: (stream, text) => stream.write(`${text}\n`),
    stop(final) {
      // The last status usually said it already ("completed"); do not repeat it.
      if (final && final !== state.label) line(final);
    },
  };
}

/** One spinner line on the terminal, rewritten in place as the job moves and the time passes. */
function liveProgress(io: CliIO, tracker: JobTracker): Progress {
  const { state, elapsed, describe, apply } = tracker;
  // isEnabled: progressMode() already decided this is a terminal; ora must not second-guess it.
  const spinner: Ora = ora({
    stream: io.stderr as NodeJS.WritableStream,
    text: describe(),
    discardStdin: false,
    isEnabled: true,
  }).start();
  // The elapsed time moves even when the server says nothing new.
  const ticker = setInterval(() => {
    spinner.text = describe();
  }, 200);
  ticker.unref?.();
  return {
    update(status) {
      apply(status);
      spinner.text = describe();
      // Drawn now rather than on the next frame, so a short-lived state (position 1) is still seen.
      spinner.render();
    },
    phase(label) {
      state.label = label;
      spinner.text = describe();
    },
    print(stream, text) {
      spinner.clear();
      stream.write(`${text}\n`);
      spinner.render();
    },
    stop(final) {
      clearInterval(ticker);
      if (final) spinner.stopAndPersist({ symbol: "✔", text: `${final} · ${elapsed()}` });
      else spinner.stop();
    },
  };
}

/**
 * A server's log line on one status line: redacted, flattened, cut, and with no terminal escapes left
 * in it. Redacted first: a key the server echoes and the cut straddles would otherwise leave a fragment
 * the redacting stream cannot recognise.
 */
function logLine(redact: ((text: string) => string) | undefined): (text: string) => string {
  return (text) => escapeControl(truncate(redact ? redact(text) : text, 80));
}

/**
 * Time for the simulator. Job state is derived from elapsed time, so a test moves a job
 * along by advancing a manual clock instead of sleeping. Timers exist only so that pushed
 * things (status streams, webhooks, latency) can wake up when the clock moves.
 */
import { sleep } from "@kontext-sdk/schema/protocol";

/** A timer's cancel function. */
export type CancelTimer = () => void;

export interface MockClock {
  /** Milliseconds since the epoch (or any fixed origin). */
  now(): number;
  /**
   * Run `fn` once `ms` have passed on this clock. Optional: clocks without timers are
   * polled with real timers, which is right for clocks that follow real time.
   */
  setTimer?(fn: () => void, ms: number): CancelTimer;
}

export interface ManualClock extends MockClock {
  setTimer(fn: () => void, ms: number): CancelTimer;
  /** Move time forward and run every timer that falls due, in order. */
  advance(ms: number): void;
  /** Jump to an absolute time (never backwards past pending timers' order). */
  set(ms: number): void;
  /** Timers still waiting; handy to assert that nothing is left running. */
  readonly pendingTimers: number;
}

/** Real time, for the server and for anyone who does not care. */
export const realClock: MockClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const id = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(id);
  },
};

/**
 * A clock that only moves when told to. It starts at a fixed, readable date so log
 * timestamps are stable across runs.
 */
export function createManualClock(start = Date.UTC(2025, 0, 1)): ManualClock {
  let now = start;
  let seq = 0;
  // Small lists: a linear scan keeps ordering obvious and is fast enough for tests.
  let timers: { at: number; seq: number; fn: () => void }[] = [];

  const runDue = (until: number) => {
    for (;;) {
      let next: (typeof timers)[number] | undefined;
      for (const timer of timers) {
        if (timer.at <= until && (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))) next = timer;
      }
      if (!next) break;
      timers = timers.filter((timer) => timer !== next);
      // Timers see the time they were due at, so chained timers land on exact step edges.
      now = Math.max(now, next.at);
      next.fn();
    }
    now = Math.max(now, until);
  };

  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + Math.max(0, ms), seq: seq++, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((pending) => pending !== timer);
      };
    },
    advance(ms) {
      runDue(now + ms);
    },
    set(ms) {
      runDue(ms);
      now = ms;
    },
    get pendingTimers() {
      return timers.length;
    },
  };
}

/**
 * `clock`'s timer as a free function, bound to the clock so a class-based clock's `setTimer` keeps its
 * `this`; real timers for a clock without one. Every caller that schedules on a clock goes through here.
 */
export function timerOf(clock: MockClock): (fn: () => void, ms: number) => CancelTimer {
  const source = clock.setTimer ? clock : realClock;
  return source.setTimer!.bind(source);
}

/** Wait `ms` on `clock`; real time (and clocks without timers) through the protocol core's `sleep`. */
export function sleepOn(clock: MockClock, ms: number, signal?: AbortSignal | null): Promise<void> {
  if (clock === realClock || !clock.setTimer) return sleep(ms, signal);
  const setTimer = timerOf(clock);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const cancel = setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

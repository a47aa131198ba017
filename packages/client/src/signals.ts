import { KontextTimeoutError } from "./errors.js";

/** A signal and the function that unhooks it from the signals it follows (long-lived callers' signals). */
export interface Linked {
  signal: AbortSignal;
  release: () => void;
}

/**
 * A signal that follows every signal in `outer` and also aborts itself, with `onTimeout()` as the reason,
 * after `ms` (when `ms` > 0). Every call, every job and every subscribe needs exactly this; `release()`
 * unhooks it so long-lived caller signals do not collect listeners. (`AbortSignal.any` would do the
 * following part, but Safari has it only since 17.4.)
 */
export function linkedSignal(
  outer: AbortSignal | undefined | readonly (AbortSignal | undefined)[],
  ms?: number,
  onTimeout: () => unknown = () => undefined,
): Linked {
  const controller = new AbortController();
  const sources = (Array.isArray(outer) ? outer : [outer]).filter((signal): signal is AbortSignal => !!signal);
  const unhooks: (() => void)[] = [];
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const forward = () => controller.abort(source.reason);
    source.addEventListener("abort", forward, { once: true });
    unhooks.push(() => source.removeEventListener("abort", forward));
  }
  const timer = ms && ms > 0 && !controller.signal.aborted ? setTimeout(() => controller.abort(onTimeout()), ms) : undefined;
  const release = () => {
    clearTimeout(timer);
    for (const unhook of unhooks) unhook();
  };
  return { signal: controller.signal, release };
}

/** Rejects with the signal's reason once it aborts (never resolves); for racing work that ignores signals. */
export function whenAborted(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {});
  return aborted;
}

/**
 * Runs `work` under one signal that both the caller's signal and an optional deadline abort. On the
 * deadline the work rejects with a KontextTimeoutError carrying whatever request id `onTimeout` knows
 * (`onTimeout` is also where a job is cancelled remotely).
 */
export async function bounded<T>(
  outer: AbortSignal | undefined,
  timeout: number | undefined,
  work: (signal: AbortSignal) => Promise<T>,
  onTimeout: () => string | undefined = () => undefined,
): Promise<T> {
  if (outer?.aborted) throw outer.reason;
  const { signal, release } = linkedSignal(
    outer,
    timeout,
    () => new KontextTimeoutError(`timed out after ${timeout} ms`, onTimeout()),
  );
  try {
    return await work(signal);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    release();
  }
}

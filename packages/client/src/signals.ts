/**
 * A signal that follows `outer` and also aborts itself, with `onTimeout()` as the reason, after `ms`
 * (when `ms` > 0). Every call and every subscribe needs exactly this; `release()` unhooks it from `outer`
 * so long-lived caller signals do not collect listeners.
 */
export function linkedSignal(outer: AbortSignal | undefined, ms: number | undefined, onTimeout: () => unknown) {
  const ctl = new AbortController();
  const forward = () => ctl.abort(outer!.reason);
  outer?.addEventListener("abort", forward, { once: true });
  const timer = ms! > 0 ? setTimeout(() => ctl.abort(onTimeout()), ms) : undefined;
  const release = () => {
    clearTimeout(timer);
    outer?.removeEventListener("abort", forward);
  };
  return { signal: ctl.signal, release };
}

/** Rejects with the signal's reason once it aborts (never resolves); for racing work that ignores signals. */
export function whenAborted(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
  p.catch(() => {});
  return p;
}

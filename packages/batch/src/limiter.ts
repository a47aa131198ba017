/**
 * How many jobs are in flight at once: a cap that halves when fal answers 429 (its queue-length cap,
 * or a rate limit) and grows back by about one slot per `limit` finished jobs (additive increase,
 * multiplicative decrease, as TCP does). A 429 with `Retry-After` also pauses new submits that long.
 * fal counts only RUNNING jobs toward an account's concurrency (2 for a new account), so a cap of 2 is
 * the default: jobs beyond it would just wait IN_QUEUE at fal, costing status requests for nothing.
 */

export interface AdaptiveLimiterOptions {
  /** The cap, never exceeded. */
  max: number;
  /** The floor after halvings. Default 1. */
  min?: number;
  /** Milliseconds since some origin; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

export interface LimiterSnapshot {
  /** The current cap (≤ max); jobs beyond it wait. */
  limit: number;
  inFlight: number;
  waiting: number;
  /** Number of 429s seen. */
  rateLimited: number;
  /** When new slots are handed out again after a Retry-After, or 0. */
  pausedUntil: number;
}

export class AdaptiveLimiter {
  readonly max: number;
  readonly min: number;
  private current: number;
  private active = 0;
  private limited = 0;
  private pausedUntil = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly waiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(options: AdaptiveLimiterOptions) {
    if (!(Number.isInteger(options.max) && options.max >= 1))
      throw new RangeError(`max must be a whole number ≥ 1 (got ${options.max})`);
    this.max = options.max;
    this.min = Math.min(options.max, Math.max(1, options.min ?? 1));
    this.current = options.max;
    this.now = options.now ?? Date.now;
  }

  /** Waits for a slot; call the returned function exactly once to give it back. */
  async acquire(): Promise<() => void> {
    while (!this.canStart()) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.wake();
    };
  }

  /** A 429: halve the cap (from what is in flight, not from the old cap), and pause for `retryAfterMs`. */
  rateLimited(retryAfterMs = 0): void {
    this.limited++;
    this.current = Math.max(this.min, Math.floor(Math.min(this.current, Math.max(this.active, 1)) / 2));
    if (retryAfterMs > 0) this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
    this.wake();
  }

  /** A job went through: grow back by 1/limit, so a full window of successes adds one slot. */
  succeeded(): void {
    if (this.current < this.max) this.current = Math.min(this.max, this.current + 1 / Math.floor(this.current));
    this.wake();
  }

  snapshot(): LimiterSnapshot {
    return {
      limit: Math.floor(this.current),
      inFlight: this.active,
      waiting: this.waiters.length,
      rateLimited: this.limited,
      pausedUntil: this.pausedUntil > this.now() ? this.pausedUntil : 0,
    };
  }

  private canStart(): boolean {
    return this.active < Math.floor(this.current) && this.now() >= this.pausedUntil;
  }

  private wake(): void {
    const wait = this.pausedUntil - this.now();
    if (wait > 0) {
      // Paused: one timer wakes the waiters when the pause ends.
      if (this.waiters.length > 0 && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.wake();
        }, wait);
      }
      return;
    }
    let free = Math.floor(this.current) - this.active;
    while (free-- > 0 && this.waiters.length > 0) this.waiters.shift()!();
  }
}

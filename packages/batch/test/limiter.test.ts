import { describe, expect, it } from "vitest";
import { AdaptiveLimiter } from "../src/index.js";

describe("AdaptiveLimiter", () => {
  it("hands out at most `max` slots and the next waiter gets a slot when one is given back", async () => {
    const limiter = new AdaptiveLimiter({ max: 2 });
    const first = await limiter.acquire();
    await limiter.acquire();
    let third = false;
    const pending = limiter.acquire().then((release) => {
      third = true;
      return release;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    expect(limiter.snapshot()).toMatchObject({ inFlight: 2, waiting: 1 });
    first();
    await pending;
    expect(third).toBe(true);
    expect(limiter.snapshot().inFlight).toBe(2);
  });

  it("halves what is in flight on a 429 and grows back by about one slot per window of successes", async () => {
    const limiter = new AdaptiveLimiter({ max: 16 });
    const releases = await Promise.all(Array.from({ length: 16 }, () => limiter.acquire()));
    limiter.rateLimited();
    expect(limiter.snapshot().limit).toBe(8);
    limiter.rateLimited();
    expect(limiter.snapshot().limit).toBe(4);
    for (const release of releases) release();
    // Four successes at a cap of 4 add one slot; the next five add another.
    for (let i = 0; i < 4; i++) limiter.succeeded();
    expect(limiter.snapshot().limit).toBe(5);
    for (let i = 0; i < 5; i++) limiter.succeeded();
    expect(limiter.snapshot().limit).toBe(6);
    for (let i = 0; i < 1000; i++) limiter.succeeded();
    expect(limiter.snapshot().limit).toBe(16);
    expect(limiter.snapshot().rateLimited).toBe(2);
  });

  it("never goes below its floor, and a cap below what is in flight lets nobody new in", async () => {
    const limiter = new AdaptiveLimiter({ max: 4, min: 1 });
    const held = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    for (let i = 0; i < 5; i++) limiter.rateLimited();
    expect(limiter.snapshot().limit).toBe(1);
    let entered = false;
    void limiter.acquire().then(() => {
      entered = true;
    });
    held[0]!();
    held[1]!();
    await Promise.resolve();
    expect(entered).toBe(false);
    held[2]!();
    await new Promise((r) => setImmediate(r));
    expect(entered).toBe(true);
  });

  it("pauses new slots for Retry-After, on its clock", async () => {
    let now = 1_000;
    const limiter = new AdaptiveLimiter({ max: 4, now: () => now });
    limiter.rateLimited(5_000);
    expect(limiter.snapshot().pausedUntil).toBe(6_000);
    now = 6_001;
    expect(limiter.snapshot().pausedUntil).toBe(0);
    const release = await limiter.acquire();
    expect(limiter.snapshot().inFlight).toBe(1);
    release();
  });

  it("refuses a cap that is not a whole number of at least 1", () => {
    expect(() => new AdaptiveLimiter({ max: 0 })).toThrow(RangeError);
  });
});

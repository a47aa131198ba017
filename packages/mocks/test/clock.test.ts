import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { timerOf } from "../src/clock.js";
import { type CancelTimer, createManualClock, type MockClock } from "../src/index.js";
import { setup, T2I } from "./helpers.js";

describe("createManualClock", () => {
  it("runs due timers in order, each seeing its own due time", () => {
    const clock = createManualClock(1000);
    const seen: [string, number][] = [];
    clock.setTimer(() => seen.push(["b", clock.now()]), 20);
    clock.setTimer(() => {
      seen.push(["a", clock.now()]);
      clock.setTimer(() => seen.push(["chained", clock.now()]), 5);
    }, 10);
    const cancel = clock.setTimer(() => seen.push(["cancelled", clock.now()]), 15);
    cancel();
    clock.advance(14);
    expect(seen).toEqual([["a", 1010]]);
    expect(clock.now()).toBe(1014);
    clock.advance(100);
    expect(seen).toEqual([
      ["a", 1010],
      ["chained", 1015],
      ["b", 1020],
    ]);
    expect(clock.now()).toBe(1114);
    expect(clock.pendingTimers).toBe(0);
  });

  it("set() jumps to a time, firing what falls due", () => {
    const clock = createManualClock(0);
    let fired = false;
    clock.setTimer(() => {
      fired = true;
    }, 50);
    clock.set(60);
    expect([fired, clock.now()]).toEqual([true, 60]);
  });
});

/** A clock written as a class: its methods reach its state through `this`, so they must be called bound. */
class ClassClock implements MockClock {
  readonly #manual = createManualClock();
  timersSet = 0;
  now(): number {
    return this.#manual.now();
  }
  setTimer(fn: () => void, ms: number): CancelTimer {
    this.timersSet++;
    return this.#manual.setTimer(fn, ms);
  }
  advance(ms: number): void {
    this.#manual.advance(ms);
  }
}

describe("a class-based clock", () => {
  it("timerOf keeps the clock's this, and falls back to real timers for a clock without setTimer", async () => {
    const clock = new ClassClock();
    let fired = false;
    timerOf(clock)(() => {
      fired = true;
    }, 10);
    clock.advance(10);
    expect([fired, clock.timersSet]).toEqual([true, 1]);
    const realFired = await new Promise<boolean>((resolve) => timerOf({ now: () => 0 })(() => resolve(true), 1));
    expect(realFired).toBe(true);
  });

  it("drives the mock's own timers (webhooks) with setTimer called on the clock", async () => {
    const clock = new ClassClock();
    const delivered: string[] = [];
    const webhookFetch = (async (input: RequestInfo | URL) => {
      delivered.push(String(input));
      return new Response(null, { status: 200 });
    }) as typeof fetch;
    const t = setup({ clock, webhookFetch });
    const hook = "https://example.org/api/fal/webhook";
    await t.submit({ prompt: "class clock" }, T2I, `?fal_webhook=${encodeURIComponent(hook)}`);
    clock.advance(500);
    await vi.waitFor(() => expect(delivered).toEqual([hook]));
    expect(clock.timersSet).toBeGreaterThan(0);
  });

  it("drives a latency fault (sleepOn) with setTimer called on the clock", async () => {
    const clock = new ClassClock();
    const t = setup({ clock, faults: [{ kind: "latency", ms: 50 }] });
    const answered = t.submit({ prompt: "slow" });
    await vi.waitFor(() => expect(clock.timersSet).toBe(1));
    clock.advance(50);
    expect((await answered).response.status).toBe(200);
  });
});

describe("webhook URL", () => {
  it("is validated like the spec's `format: uri`", async () => {
    const t = setup();
    const { response, body } = await t.submit({ prompt: "x" }, T2I, "?fal_webhook=not-a-url");
    expect(response.status).toBe(422);
    expect(body.detail[0]).toMatchObject({ loc: ["query", "fal_webhook"], type: "url_parsing" });
  });
});

describe("browser safety", () => {
  it("the main entry's modules import nothing from Node and use no Node globals", () => {
    const nodeOnly = new Set(["server.ts", "bin.ts", "body-spool.ts"]);
    const dir = new URL("../src/", import.meta.url);
    const files = [...readdirSync(dir).map((f) => f), ...readdirSync(new URL("images/", dir)).map((f) => `images/${f}`)].filter(
      (f) => f.endsWith(".ts") && !nodeOnly.has(f),
    );
    expect(files.length).toBeGreaterThan(8);
    for (const file of files) {
      // Comments may talk about Node; code may not use it.
      const text = readFileSync(new URL(file, dir), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      expect(text, file).not.toMatch(/from "node:|require\(|\bBuffer\b|\bprocess\./);
      if (file !== "msw.ts") expect(text, file).not.toMatch(/from "msw"/);
    }
  });
});

/**
 * Upstream timeouts: a deadline for the answer (and for bodies read in full), and an idle limit for
 * streamed bodies. A silent upstream must not hold the browser's connection, or the proxy's, for ever.
 */

import { KontextError } from "@kontext-sdk/schema/protocol";

/** Thrown into a race when the deadline passes, and the error a silent stream ends with. */
export class UpstreamTimeout extends KontextError {
  override name = "UpstreamTimeout";
}

/** A deadline that aborts the upstream call when it passes, and can be raced against any await. */
export class UpstreamDeadline {
  expired = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly passed: Promise<never>;

  constructor(
    readonly limitMs: number,
    abortUpstream: () => void,
  ) {
    this.passed = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => {
        this.expired = true;
        abortUpstream();
        reject(new UpstreamTimeout(`upstream did not answer within ${limitMs} ms`));
      }, limitMs);
    });
    // Nothing may be left unhandled when no one is racing at the moment it passes.
    this.passed.catch(() => {});
  }

  /** `work`, unless the deadline passes first (even if `work` ignores the abort). */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.passed]);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Passes chunks through, and errors the stream (and calls `onIdle`, which aborts upstream) when no chunk
 * arrived for `idleMs`. The browser then sees the connection cut, as it would had upstream died.
 */
export function idleTimeout(idleMs: number, onIdle: () => void, signal: AbortSignal): TransformStream<Uint8Array, Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let output: TransformStreamDefaultController<Uint8Array> | undefined;
  const stop = () => clearTimeout(timer);
  const arm = () => {
    stop();
    timer = setTimeout(() => {
      onIdle();
      try {
        output?.error(new UpstreamTimeout(`upstream was silent for ${idleMs} ms`));
      } catch {}
    }, idleMs);
    // A stream the browser dropped without an abort signal must not keep the process alive.
    (timer as { unref?: () => void }).unref?.();
  };
  // A browser that goes away aborts the signal: no timer may outlive the stream.
  signal.addEventListener("abort", stop, { once: true });
  return new TransformStream({
    start(controller) {
      output = controller;
      arm();
    },
    transform(chunk, controller) {
      arm();
      controller.enqueue(chunk);
    },
    flush() {
      stop();
      signal.removeEventListener("abort", stop);
    },
  });
}

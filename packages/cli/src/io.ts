/**
 * Everything the CLI touches in the outside world, gathered in one object so `main` can be
 * driven in-process by tests (fake streams, a fake environment, a fake Ctrl-C) and by the bin
 * with the real process.
 */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True on a terminal; decides between the live status line and plain lines. */
  isTTY?: boolean;
  /** Terminal width; 0 on a pseudo-terminal nobody sized. */
  columns?: number;
}

export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  /** Relative `--out` and `--image` paths resolve against this. */
  cwd: string;
  /** Calls `handler` on every Ctrl-C until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  /** Monotonic milliseconds, for the elapsed time shown while a job runs. */
  now(): number;
  /** Used to download generated images (never sent the key). */
  fetch: typeof fetch;
  /**
   * Blanks every known secret in a text. The output streams do this on every write too, but a line
   * cut to length must be redacted before the cut: a key straddling it would leave a fragment the
   * stream no longer recognises. Set by `main`; absent, text is left as it is.
   */
  redact?: (text: string) => string;
}

/** The real process: its streams, environment, working directory and SIGINT. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(handler) {
      // Adding a listener replaces Node's default "exit at once" on SIGINT, which is what lets the
      // CLI cancel the remote job before it leaves; removing it restores the default.
      process.on("SIGINT", handler);
      return () => {
        process.off("SIGINT", handler);
      };
    },
    now: () => performance.now(),
    fetch: (...args) => fetch(...args),
  };
}

/** Fills the parts of a partial IO the caller left out with the real process's. */
export function resolveIO(io: Partial<CliIO> = {}): CliIO {
  return { ...processIO(), ...io };
}

/**
 * A stream whose every write has the secrets blanked out. Everything the CLI prints (progress
 * lines, server log lines, error messages) goes through one of these, so a key that some layer
 * echoed back can still never reach the terminal. A Proxy keeps the terminal methods (cursor
 * movement, isTTY, columns) that the spinner needs working on the real stream.
 */
export function redactingStream<S extends OutputStream>(stream: S, redact: (text: string) => string): S {
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === "write") {
        return (chunk: unknown, ...rest: unknown[]) =>
          (target.write as (...args: unknown[]) => unknown).call(
            target,
            typeof chunk === "string" ? redact(chunk) : chunk,
            ...rest,
          );
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * `kontext mock`: the mock server in the foreground, for trying the SDK, the CLI (`--base-url`)
 * or an app against a fal-compatible queue without a key. Stops on Ctrl-C.
 */
import { EXIT, UsageError } from "../errors.js";
import { numberish } from "../inputs.js";
import type { CommandContext } from "./context.js";

export interface MockFlags {
  port?: string;
  host?: string;
  step?: string;
  /** `result` (fal's timing: the job's result is the 422) or `submit` (the 422 at submit, like some gateways). */
  validateAt?: string;
  /** Jobs that may run at once, like fal's per-account limit; the rest wait IN_QUEUE. */
  concurrencyLimit?: string;
}

export async function mockCommand(ctx: CommandContext, flags: MockFlags): Promise<number> {
  const { io } = ctx;
  const port = wholeNumber(flags.port ?? "4010", "--port", 0, 65535);
  const stepMs = flags.step === undefined ? undefined : wholeNumber(flags.step, "--step", 0, Number.MAX_SAFE_INTEGER);
  const validateAt = flags.validateAt ?? "result";
  if (validateAt !== "result" && validateAt !== "submit") {
    throw new UsageError(`--validate-at must be "result" or "submit" (got ${validateAt})`);
  }
  const concurrencyLimit =
    flags.concurrencyLimit === undefined
      ? undefined
      : wholeNumber(flags.concurrencyLimit, "--concurrency-limit", 1, Number.MAX_SAFE_INTEGER);
  const { startMockServer } = await import("@kontext-sdk/mocks/server");
  const server = await startMockServer({
    port,
    host: flags.host ?? "127.0.0.1",
    validateAt,
    ...(concurrencyLimit !== undefined ? { concurrencyLimit } : {}),
    ...(stepMs !== undefined ? { timeline: { stepMs } } : {}),
  });
  io.stdout.write(`Mock fal queue listening on ${server.url} (Ctrl-C to stop)\n`);
  io.stdout.write(
    `  input validated at: ${validateAt}${concurrencyLimit ? `; at most ${concurrencyLimit} jobs run at once` : ""}\n`,
  );
  io.stdout.write(`  try: FAL_KEY=any-key kontext generate "a red fox" --base-url ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const unlisten = io.onInterrupt(() => {
      unlisten();
      resolve();
    });
  });
  await server.close();
  io.stdout.write("Mock server stopped.\n");
  return EXIT.ok;
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const value = numberish(text);
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got ${text})`);
  }
  return value;
}

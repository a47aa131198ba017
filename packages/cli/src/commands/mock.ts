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
}

export async function mockCommand(ctx: CommandContext, flags: MockFlags): Promise<number> {
  const { io } = ctx;
  const port = wholeNumber(flags.port ?? "4010", "--port", 65535);
  const stepMs = flags.step === undefined ? undefined : wholeNumber(flags.step, "--step", Number.MAX_SAFE_INTEGER);
  const { startMockServer } = await import("@kontext-sdk/mocks/server");
  const server = await startMockServer({
    port,
    host: flags.host ?? "127.0.0.1",
    ...(stepMs !== undefined ? { timeline: { stepMs } } : {}),
  });
  io.stdout.write(`Mock fal queue listening on ${server.url} (Ctrl-C to stop)\n`);
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

function wholeNumber(text: string, flag: string, max: number): number {
  const value = numberish(text);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new UsageError(`${flag} must be a whole number from 0 to ${max} (got ${text})`);
  }
  return value;
}

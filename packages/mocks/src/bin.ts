#!/usr/bin/env node
/**
 * kontext-mock — serve the simulator on loopback for clients in other processes.
 *   kontext-mock --port 4010 [--host 127.0.0.1] [--latency ms] [--fail-rate p] [--step ms] [--auth any]
 *                [--validate-at submit|result] [--concurrency-limit n] [--cors localhost|*|off]
 */
import { parseArgs } from "node:util";
import type { FaultRule } from "./faults.js";
import { type MockCors, startMockServer } from "./server.js";

const USAGE = `Usage: kontext-mock [options]

  --port <n>        port to listen on (default 4010; 0 picks a free one)
  --host <addr>     interface to bind (default 127.0.0.1)
  --latency <ms>    added latency on every API call
  --fail-rate <p>   probability in [0, 1] that an API call answers a retryable error (429, 503 or 504)
  --step <ms>       length of one queue step (default 200)
  --queue-steps <n> steps a job waits IN_QUEUE (default 2)
  --progress-steps <n> steps a job runs IN_PROGRESS (default 3)
  --auth <mode>     "required" (default) or "any"
  --validate-at <when> "result" (default, like fal: any JSON is queued, the result is the 422)
                    or "submit" (the 422 at submit, as some gateways do)
  --concurrency-limit <n> jobs that may run at once (fal's account limit; the rest wait IN_QUEUE)
  --cors <who>      browser origins answered: "localhost" (default), "*" (any) or "off"
  --seed <n>        seed for request ids and fault dice
  -h, --help        show this help
`;

function number(name: string, value: string | undefined, min = 0, max = Number.POSITIVE_INFINITY): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    process.stderr.write(`kontext-mock: --${name} must be a number between ${min} and ${max} (got ${value})\n`);
    process.exit(2);
  }
  return parsed;
}

/** The parsed command line: flag name to its text (or `true` for --help). */
type Flags = Record<string, string | boolean | undefined>;

const flagText = (flags: Flags, name: string) => flags[name] as string | undefined;

async function main() {
  const flags = parseFlags();
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Checked in the order the flags are listed, so with several bad flags the first one is named.
  const { auth, validateAt, cors } = choiceFlags(flags);
  const concurrency = concurrencyFlag(flags);
  const faults = faultFlags(flags);
  const server = await startMockServer({
    port: number("port", flagText(flags, "port"), 0, 65535),
    host: flagText(flags, "host"),
    auth,
    validateAt,
    cors,
    ...(concurrency === undefined ? {} : { concurrencyLimit: concurrency }),
    faults,
    seed: number("seed", flagText(flags, "seed")),
    timeline: {
      stepMs: number("step", flagText(flags, "step")),
      queueSteps: number("queue-steps", flagText(flags, "queue-steps")),
      progressSteps: number("progress-steps", flagText(flags, "progress-steps")),
    },
  });
  process.stdout.write(
    `kontext-mock listening on ${server.url}\n  queue: ${server.url}\n  sync:  ${server.url}/sync\n  key:   any "Key <x>" or "Bearer <x>"${auth === "any" ? " (or none)" : ""}\n  webhook keys (JWKS): ${server.url}/.well-known/jwks.json\n  input validated at: ${validateAt}\n`,
  );
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/** The command line, or the parser's complaint and the usage on stderr with exit 2. */
function parseFlags(): Flags {
  try {
    return parseArgs({
      options: {
        port: { type: "string", default: "4010" },
        host: { type: "string", default: "127.0.0.1" },
        latency: { type: "string" },
        "fail-rate": { type: "string" },
        step: { type: "string" },
        "queue-steps": { type: "string" },
        "progress-steps": { type: "string" },
        auth: { type: "string", default: "required" },
        "validate-at": { type: "string", default: "result" },
        "concurrency-limit": { type: "string" },
        cors: { type: "string", default: "localhost" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`kontext-mock: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

/** The flags that take one of a few words (--auth, --validate-at, --cors); exit 2 on any other. */
function choiceFlags(flags: Flags): { auth: "required" | "any"; validateAt: "result" | "submit"; cors: MockCors } {
  const auth = flagText(flags, "auth");
  if (auth !== "required" && auth !== "any") {
    process.stderr.write(`kontext-mock: --auth must be "required" or "any" (got ${auth})\n`);
    process.exit(2);
  }
  const validateAt = flagText(flags, "validate-at");
  if (validateAt !== "result" && validateAt !== "submit") {
    process.stderr.write(`kontext-mock: --validate-at must be "result" or "submit" (got ${validateAt})\n`);
    process.exit(2);
  }
  const corsFlag = flagText(flags, "cors");
  if (corsFlag !== "localhost" && corsFlag !== "*" && corsFlag !== "off") {
    process.stderr.write(`kontext-mock: --cors must be "localhost", "*" or "off" (got ${corsFlag})\n`);
    process.exit(2);
  }
  return { auth, validateAt, cors: corsFlag === "off" ? false : corsFlag };
}

/** --concurrency-limit: a whole number of at least 1, or none (no limit). */
function concurrencyFlag(flags: Flags): number | undefined {
  const concurrency = number("concurrency-limit", flagText(flags, "concurrency-limit"), 1);
  if (concurrency !== undefined && !Number.isInteger(concurrency)) {
    process.stderr.write(`kontext-mock: --concurrency-limit must be a whole number (got ${concurrency})\n`);
    process.exit(2);
  }
  return concurrency;
}

/** --latency and --fail-rate as the server's fault rules. */
function faultFlags(flags: Flags): FaultRule[] {
  const faults: FaultRule[] = [];
  const latency = number("latency", flagText(flags, "latency"));
  if (latency) faults.push({ kind: "latency", ms: latency });
  const failRate = number("fail-rate", flagText(flags, "fail-rate"), 0, 1);
  // No explicit status: each operation answers a retryable error its spec lists (429; 503 for results, 504 for sync runs).
  // Cancel and the status stream list no such errors in the spec, so they are left alone.
  if (failRate)
    faults.push({ kind: "status", probability: failRate, retryAfter: 1, operation: ["submit", "status", "result", "run"] });
  return faults;
}

/**
 * One readable line and exit 1 when the server cannot start (port taken, bad host) rather than Node's
 * unhandled-rejection stack trace: the message already says what to change.
 */
function exitWith(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`kontext-mock: ${message}\n`);
  process.exit(1);
}

main().catch(exitWith);

#!/usr/bin/env node
/**
 * kontext-mock — serve the simulator on loopback for clients in other processes.
 *   kontext-mock --port 4010 [--host 127.0.0.1] [--latency ms] [--fail-rate p] [--step ms] [--auth any]
 */
import { parseArgs } from "node:util";
import type { FaultRule } from "./faults.js";
import { startMockServer } from "./server.js";

const USAGE = `Usage: kontext-mock [options]

  --port <n>        port to listen on (default 4010; 0 picks a free one)
  --host <addr>     interface to bind (default 127.0.0.1)
  --latency <ms>    added latency on every API call
  --fail-rate <p>   probability in [0, 1] that an API call answers a retryable error (429, 503 or 504)
  --step <ms>       length of one queue step (default 200)
  --queue-steps <n> steps a job waits IN_QUEUE (default 2)
  --progress-steps <n> steps a job runs IN_PROGRESS (default 3)
  --auth <mode>     "required" (default) or "any"
  --seed <n>        seed for request ids and fault dice
  -h, --help        show this help
`;

function number(name: string, value: string | undefined, min = 0, max = Number.POSITIVE_INFINITY): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`kontext-mock: --${name} must be a number between ${min} and ${max} (got ${value})\n`);
    process.exit(2);
  }
  return n;
}

async function main() {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string", default: "4010" },
        host: { type: "string", default: "127.0.0.1" },
        latency: { type: "string" },
        "fail-rate": { type: "string" },
        step: { type: "string" },
        "queue-steps": { type: "string" },
        "progress-steps": { type: "string" },
        auth: { type: "string", default: "required" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`kontext-mock: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const str = (k: string) => values[k] as string | undefined;
  const auth = str("auth");
  if (auth !== "required" && auth !== "any") {
    process.stderr.write(`kontext-mock: --auth must be "required" or "any" (got ${auth})\n`);
    process.exit(2);
  }
  const faults: FaultRule[] = [];
  const latency = number("latency", str("latency"));
  if (latency) faults.push({ kind: "latency", ms: latency });
  const failRate = number("fail-rate", str("fail-rate"), 0, 1);
  // No explicit status: each operation answers a retryable error its spec lists (429; 503 for results, 504 for sync runs).
  // Cancel and the status stream list no such errors in the spec, so they are left alone.
  if (failRate)
    faults.push({ kind: "status", probability: failRate, retryAfter: 1, operation: ["submit", "status", "result", "run"] });
  const server = await startMockServer({
    port: number("port", str("port"), 0, 65535),
    host: str("host"),
    auth,
    faults,
    seed: number("seed", str("seed")),
    timeline: {
      stepMs: number("step", str("step")),
      queueSteps: number("queue-steps", str("queue-steps")),
      progressSteps: number("progress-steps", str("progress-steps")),
    },
  });
  process.stdout.write(
    `kontext-mock listening on ${server.url}\n  queue: ${server.url}\n  sync:  ${server.url}/sync\n  key:   any "Key <x>" or "Bearer <x>"${auth === "any" ? " (or none)" : ""}\n  webhook keys (JWKS): ${server.url}/.well-known/jwks.json\n`,
  );
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

void main();

/**
 * Starts Prism (the independent referee) as a child process on a free loopback port and collects
 * the violations it reports, so a test can assert there are none.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const SPEC = fileURLToPath(new URL("../../../spec/dist/openapi.json", import.meta.url));
export const SYNC_SPEC = fileURLToPath(new URL("../../../spec/dist/sync.json", import.meta.url));
const PRISM_BIN = fileURLToPath(new URL("../node_modules/.bin/prism", import.meta.url));

export interface PrismServer {
  url: string;
  /** Everything Prism printed, for failure messages. */
  output: () => string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `args` is `["mock", spec]` or `["proxy", spec, upstream]`; `--errors` is always on. */
export async function startPrism(args: string[], startupMs = 45_000): Promise<PrismServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(PRISM_BIN, [...args, "--errors", "-h", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
  });
  let log = "";
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`Prism did not listen within ${startupMs} ms:\n${log}`));
    }, startupMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Prism is listening")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Prism exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    output: () => log,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface PrismViolation {
  method: string;
  url: string;
  status: number;
  /** From the `sl-violations` header, or Prism's problem+json body under `--errors`. */
  violations: unknown;
}

/**
 * A fetch that records what Prism objected to: the `sl-violations` header (set for any request
 * or response violation) and the 500 `VIOLATIONS` problem it answers instead under `--errors`.
 */
export function recordingFetch(inner: typeof fetch = fetch) {
  const found: PrismViolation[] = [];
  let calls = 0;
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const response = await inner(request);
    calls++;
    const header = response.headers.get("sl-violations");
    const type = response.headers.get("content-type") ?? "";
    let problem: unknown;
    if (type.includes("problem+json"))
      problem = await response
        .clone()
        .json()
        .catch(() => "unreadable problem+json");
    if (header || problem) {
      found.push({
        method: request.method,
        url: request.url,
        status: response.status,
        violations: problem ?? JSON.parse(header!),
      });
    }
    return response;
  }) as typeof fetch;
  return { fetch: wrapped, found, calls: () => calls };
}

/**
 * Runs bundled Worker scripts in workerd (Cloudflare's open-source Workers runtime, from the npm
 * registry) on a free loopback port, the way `wrangler dev` does underneath: a Cap'n Proto config,
 * `--control-fd` to learn the port workerd picked, and a `globalOutbound` that may reach loopback
 * (workerd's default refuses private and local addresses, and the mock server lives on 127.0.0.1).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WorkerBinding {
  name: string;
  /** A plain-text binding (`env.NAME` is this string): secrets, URLs. */
  text?: string;
  /** A service binding (`env.NAME.fetch(...)` calls that Worker directly). */
  service?: string;
}

export interface WorkerService {
  name: string;
  /** The Worker's bundled ES module source. */
  source: string;
  bindings?: WorkerBinding[];
}

export interface Workerd {
  /** `http://127.0.0.1:<port>`, served by the first Worker. */
  url: string;
  /** What workerd printed so far, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

const COMPATIBILITY_DATE = "2025-06-01";

function capnpString(value: string): string {
  return JSON.stringify(value);
}

function configFor(services: WorkerService[]): string {
  const workers = services.map((service) => {
    const bindings = (service.bindings ?? []).map((binding) =>
      binding.service !== undefined
        ? `(name = ${capnpString(binding.name)}, service = ${capnpString(binding.service)})`
        : `(name = ${capnpString(binding.name)}, text = ${capnpString(binding.text ?? "")})`,
    );
    return `(name = ${capnpString(service.name)}, worker = (
      modules = [(name = "worker.js", esModule = embed ${capnpString(`${service.name}.js`)})],
      compatibilityDate = ${capnpString(COMPATIBILITY_DATE)},
      bindings = [${bindings.join(", ")}],
      globalOutbound = "loopback-only",
    ))`;
  });
  const [entry] = services;
  if (!entry) throw new Error("startWorkerd needs at least one Worker");
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${workers.join(",\n    ")},
    (name = "loopback-only", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = ${capnpString(entry.name)})],
);
`;
}

/** Starts workerd with these Workers (the first one serves the socket) and waits until it listens. */
export async function startWorkerd(executable: string, services: WorkerService[], timeoutMs = 30_000): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), "kontext-workerd-"));
  for (const service of services) writeFileSync(join(dir, `${service.name}.js`), service.source);
  writeFileSync(join(dir, "config.capnp"), configFor(services));
  const child: ChildProcess = spawn(executable, ["serve", "config.capnp", "--control-fd=3"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  let printed = "";
  child.stdout?.on("data", (chunk) => {
    printed += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    printed += chunk;
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`workerd did not listen within ${timeoutMs} ms:\n${printed}`)), timeoutMs);
    let control = "";
    // workerd writes one JSON object per line on the control fd, e.g. {"event":"listen","socket":"http","port":41234}.
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk) => {
      control += chunk;
      for (const line of control.split("\n")) {
        if (!line.trim()) continue;
        try {
          const event = JSON.parse(line) as { event?: string; socket?: string; port?: number };
          if (event.event === "listen" && event.socket === "http" && typeof event.port === "number") {
            clearTimeout(timer);
            resolve(event.port);
          }
        } catch {
          // An incomplete line: wait for the rest.
        }
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`workerd exited (${code}) before listening:\n${printed}`));
    });
  }).catch(async (error) => {
    await close();
    throw error;
  });
  return { url: `http://127.0.0.1:${port}`, output: () => printed, close };
}

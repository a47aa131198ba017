import { fork } from "node:child_process";
import { join } from "node:path";
import { benchDir } from "./util.js";

export interface MockProcess {
  url: string;
  ask<T = any>(type: "memory" | "cpu" | "reset" | "close"): Promise<T>;
  close(): Promise<void>;
}

/** Starts the mock server (packages/mocks/dist/server.js) in a child process. */
export async function startMockProcess(options: object): Promise<MockProcess> {
  const child = fork(join(benchDir, "lib/mock-child.ts"), [JSON.stringify(options)], {
    execArgv: ["--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let seq = 0;
  let closed = false;
  const waiting = new Map<number, (v: any) => void>();
  child.on("message", (m: { id: number }) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const url = await new Promise<string>((resolve, reject) => {
    waiting.set(0, (m) => resolve(m.url));
    child.once("exit", (code) => reject(new Error(`mock server process exited (${code})`)));
  });
  const ask = (type: string) =>
    new Promise<any>((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      child.send({ type, id });
    });
  return {
    url,
    ask,
    close: async () => {
      if (!closed && child.exitCode === null && child.connected) {
        closed = true;
        await Promise.race([ask("close"), new Promise((r) => setTimeout(r, 2000))]);
        child.kill();
      }
    },
  };
}

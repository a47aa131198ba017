/**
 * Running the built `kontext` bin as a child process, the way a person or a CI job does, and
 * small image files to feed it. Tests build nothing: `pnpm test` runs after `build` (turbo).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { crc32, deflateSync } from "node:zlib";

/** The committed bin shim package.json points at (it imports the built dist/bin.js). */
export const BIN = resolve(import.meta.dirname, "../bin/kontext.js");
const BUILT = resolve(import.meta.dirname, "../dist/bin.js");
if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run "pnpm --filter @kontext-sdk/cli build" first`);

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A clean environment: no key, no gateway, no CI flag leaking in from the machine running the
 * tests, so each test says exactly which of those it sets.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" };
  return { ...env, ...extra };
}

export interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the combined output matches. */
  waitFor(pattern: RegExp): Promise<string>;
  exit: Promise<RunResult>;
}

export function start(args: string[], options: { cwd: string; env?: Record<string, string> }): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const match = w.pattern.exec(stdout + stderr);
      if (match) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(match[0]);
      }
    }
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    check();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    check();
  });
  const exit = new Promise<RunResult>((resolveExit) => {
    child.on("close", (code, signal) => resolveExit({ code, signal, stdout, stderr }));
  });
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(pattern) {
      return new Promise((resolveWait, reject) => {
        waiters.push({ pattern, resolve: resolveWait });
        check();
        void exit.then((r) => reject(new Error(`exited (${r.code}) before printing ${pattern}\n${r.stdout}\n${r.stderr}`)));
      });
    },
    exit,
  };
}

export function run(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<RunResult> {
  return start(args, options).exit;
}

/** A port nothing listens on: bound once to learn a free number, then released. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "kontext-cli-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
export const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
export const startsWith = (bytes: Uint8Array, signature: number[]) => signature.every((b, i) => bytes[i] === b);

/** A real, decodable RGB PNG of one colour, built from its chunks. */
export function solidPng(width: number, height: number, rgb: [number, number, number] = [200, 40, 40]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from(PNG_SIGNATURE),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(pixels)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A 1×1 GIF89a, byte by byte: header, screen, a two-colour table, one image, trailer. */
export const TINY_GIF = Buffer.from([
  ...Buffer.from("GIF89a", "latin1"),
  0x01,
  0x00,
  0x01,
  0x00,
  0x80,
  0x00,
  0x00, // 1×1, global colour table of 2
  0x00,
  0x00,
  0x00,
  0xff,
  0xff,
  0xff, // black, white
  0x2c,
  0x00,
  0x00,
  0x00,
  0x00,
  0x01,
  0x00,
  0x01,
  0x00,
  0x00, // image descriptor
  0x02,
  0x02,
  0x44,
  0x01,
  0x00, // LZW min code size 2, one sub-block, end
  0x3b, // trailer
]);

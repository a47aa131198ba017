/**
 * Section: storage uploads (issue 16). Two figures, each next to its reference:
 *  - peak memory of the built CLI editing a 200 MB image: uploaded to storage (streamed from disk through
 *    `fs.openAsBlob`, in 10 MB parts) vs the same edit with no storage host (read whole, sent inline as a
 *    base64 data URI) and vs a 1 kB image (Node and the CLI themselves). Target: < 1.5 × the file's size.
 *  - upload throughput on loopback: `client.storage.upload` of 50 MB (one PUT) and 200 MB (parts) vs
 *    `@fal-ai/client`'s `fal.storage.upload` and a raw fetch initiate + one PUT, against the same mock.
 * The mock server runs in a process of its own, so the CLI's RSS is the CLI's alone and the uploader does
 * not share an event loop with the server that receives the bytes. MB = 2^20 bytes, as the CLI prints.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFalClient } from "@fal-ai/client";
import { type MockProcess, startMockProcess } from "../lib/mock-process.js";
import { importPackage, kb, mb, median, root, round, sleep, table, verdict } from "../lib/util.js";

const MiB = 1024 * 1024;
const CLI_FILE_BYTES = 200 * MiB;
const THROUGHPUT_SIZES = [50 * MiB, 200 * MiB];
const ROUNDS = 5;
const TARGET_RATIO = 1.5;
const CLI = join(root, "packages/cli/dist/bin.js");
/** JPEG start-of-image + APP0 marker: enough for the CLI's and the client's image sniffing. */
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff, 0xe0];
/** The 200 MB data URI of the inline reference is ~270 MB of JSON: the mock must read it (default cap 10 MiB). */
const MOCK_OPTIONS = { maxBodyBytes: 512 * MiB };

export async function uploadSection() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: pnpm turbo run build --filter=@kontext-sdk/cli...`);
  const workDir = await mkdtemp(join(tmpdir(), "kontext-bench-upload-"));
  const server = await startMockProcess(MOCK_OPTIONS);
  try {
    const cli = await cliMemory(server, workDir);
    const throughput = await uploadThroughput(server);
    return { cli, throughput };
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

// ─── CLI peak memory ─────────────────────────────────────────────────────────────────────────────

interface CliRun {
  label: string;
  fileBytes: number;
  peakRssBytes: number;
  seconds: number;
  /** Files the mock stored during the run (their sizes). */
  uploaded: number[];
}

async function cliMemory(server: MockProcess, workDir: string) {
  const big = join(workDir, "big.jpg");
  const small = join(workDir, "small.jpg");
  await writeJpegLike(big, CLI_FILE_BYTES);
  await writeJpegLike(small, 1024);
  const base = ["edit", "a red fox", "--base-url", server.url, "--key", "bench", "-o", join(workDir, "out")];
  const storage = ["--storage-base-url", server.url];
  const cases = [
    { label: "CLI edit, 200 MB image, uploaded (--storage-base-url)", file: big, args: storage, expectUpload: true },
    { label: "reference: same edit inline (no storage host: data URI)", file: big, args: [], expectUpload: false },
    { label: "floor: same edit, 1 kB image", file: small, args: storage, expectUpload: false },
  ];
  const runs: CliRun[] = [];
  for (const c of cases) {
    await server.ask("reset");
    const measured = await peakRss([CLI, ...base, "--image", c.file, ...c.args]);
    const { uploads } = await server.ask<{ uploads: { size: number }[] }>("reset");
    const uploaded = uploads.map((u) => u.size);
    // The figure only means something if the image went the way the row says.
    if (c.expectUpload !== uploaded.includes(CLI_FILE_BYTES))
      throw new Error(`${c.label}: expected ${c.expectUpload ? "an" : "no"} upload, the mock stored ${JSON.stringify(uploaded)}`);
    const fileBytes = c.file === big ? CLI_FILE_BYTES : 1024;
    runs.push({ label: c.label, fileBytes, ...measured, uploaded });
  }
  const rows: (string | number)[][] = [["run", "image", "peak RSS", "× 200 MB", "wall s"]];
  for (const run of runs)
    rows.push([
      run.label,
      run.fileBytes < MiB ? kb(run.fileBytes) : mb(run.fileBytes),
      mb(run.peakRssBytes),
      (run.peakRssBytes / CLI_FILE_BYTES).toFixed(2),
      run.seconds.toFixed(1),
    ]);
  table(
    `Uploads a. CLI peak memory (node packages/cli/dist/bin.js edit --image, mock server in its own process; ${peakMethod()})`,
    rows,
  );
  const ratio = runs[0]!.peakRssBytes / CLI_FILE_BYTES;
  console.log(
    `target: uploaded edit peak RSS < ${TARGET_RATIO} × the file's size: ${ratio.toFixed(2)}× → ${verdict(ratio < TARGET_RATIO)}`,
  );
  const figure = (run: CliRun) => ({
    fileBytes: run.fileBytes,
    peakRssBytes: run.peakRssBytes,
    ratioToFile: round(run.peakRssBytes / CLI_FILE_BYTES, 3),
    seconds: round(run.seconds, 2),
  });
  return {
    method: peakMethod(),
    uploaded: figure(runs[0]!),
    inline: figure(runs[1]!),
    smallImage: figure(runs[2]!),
    target: { ratio: round(ratio, 3), max: TARGET_RATIO, pass: ratio < TARGET_RATIO },
  };
}

/** A file of `size` bytes that starts like a JPEG (the rest is filler), written in 16 MB chunks. */
async function writeJpegLike(path: string, size: number) {
  const chunk = Buffer.alloc(Math.min(size, 16 * MiB), 0x41);
  const file = await open(path, "w");
  try {
    for (let offset = 0; offset < size; offset += chunk.length) {
      chunk.set(offset === 0 ? JPEG_SIGNATURE : [0x41, 0x41, 0x41, 0x41], 0);
      await file.write(chunk, 0, Math.min(chunk.length, size - offset));
    }
  } finally {
    await file.close();
  }
}

let gnuTimeFound: boolean | undefined;
function gnuTime(): boolean {
  // GNU time prints its version (on stdout in some builds, stderr in others); BSD time has no --version.
  if (gnuTimeFound === undefined) {
    const answer = spawnSync("/usr/bin/time", ["--version"], { encoding: "utf8" });
    gnuTimeFound = `${answer.stdout ?? ""}${answer.stderr ?? ""}`.includes("GNU");
  }
  return gnuTimeFound;
}

const peakMethod = () =>
  gnuTime() ? "peak RSS from GNU time (%M, getrusage)" : "peak RSS from /proc/<pid>/status VmHWM, read every 10 ms";

/**
 * Runs `node ...args` and reads its peak RSS: GNU time's %M (the kernel's own maximum, from wait4) when
 * there is one, else the VmHWM high-water mark in /proc (Linux), read until the process exits.
 */
async function peakRss(args: string[]): Promise<{ peakRssBytes: number; seconds: number }> {
  // A clean environment: no key, host or NODE_OPTIONS (tsx) from the bench's own shell.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(KONTEXT_|FAL_)/.test(name) && name !== "NODE_OPTIONS"),
  );
  const useTime = gnuTime();
  if (!useTime && process.platform !== "linux") throw new Error("peak RSS needs GNU time or Linux /proc");
  const timeFile = join(tmpdir(), `kontext-bench-time-${process.pid}-${Date.now()}.txt`);
  const [command, commandArgs] = useTime
    ? ["/usr/bin/time", ["-f", "%M", "-o", timeFile, process.execPath, ...args]]
    : [process.execPath, args];
  const t0 = performance.now();
  const child = spawn(command, commandArgs as string[], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let polledKb = 0;
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (!useTime) {
    void (async () => {
      while (running) {
        const hwm = readVmHwmKb(child.pid!);
        if (hwm !== undefined) polledKb = Math.max(polledKb, hwm);
        await sleep(10);
      }
    })();
  }
  const code = await exited;
  running = false;
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`the CLI exited with ${code}:\n${output}`);
  if (!useTime) return { peakRssBytes: polledKb * 1024, seconds };
  const kilobytes = Number(readFileSync(timeFile, "utf8").trim().split("\n").pop());
  await rm(timeFile, { force: true });
  return { peakRssBytes: kilobytes * 1024, seconds };
}

function readVmHwmKb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // the process has just exited
  }
}

// ─── Upload throughput ───────────────────────────────────────────────────────────────────────────

type Uploader = (blob: Blob) => Promise<string>;

async function uploadThroughput(server: MockProcess) {
  const { createKontextClient } = await importPackage("client");
  const client = createKontextClient({ credentials: "bench", baseUrl: server.url, storageBaseUrl: server.url });
  const fal = createFalClient({
    credentials: "bench",
    // fal-js has no storage-host option (getRestApiUrl() is fixed): swap the origin of its initiate calls.
    // The PUTs go to the upload_url the mock hands out, on the mock's origin already.
    requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://rest.fal.ai", server.url) }),
  });
  const uploaders: Record<string, { label: string; upload: Uploader }> = {
    kontext: { label: "@kontext-sdk/client storage.upload", upload: (blob) => client.storage.upload(blob) },
    fal: { label: "@fal-ai/client storage.upload", upload: (blob) => fal.storage.upload(blob) },
    raw: { label: "raw fetch: initiate + one PUT (no parts)", upload: (blob) => rawUpload(server.url, blob) },
  };
  const ids = Object.keys(uploaders);
  const warmup = jpegBlob(MiB);
  for (const id of ids) await timedUpload(server, uploaders[id]!.upload, warmup);

  const figures: Record<string, Record<string, { mbPerSecond: number; roundsSeconds: number[] }>> = {};
  const rows: (string | number)[][] = [["implementation", "size", "how", "s (median)", "MB/s", "× raw fetch"]];
  for (const size of THROUGHPUT_SIZES) {
    const blob = jpegBlob(size);
    const perRound: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order each round so no implementation always goes first.
      for (const id of [...ids.slice(r % ids.length), ...ids.slice(0, r % ids.length)])
        perRound[id]!.push(await timedUpload(server, uploaders[id]!.upload, blob));
    }
    const key = `${size / MiB}MB`;
    figures[key] = {};
    const rawSeconds = median(perRound.raw!);
    for (const id of ids) {
      const seconds = median(perRound[id]!);
      const how = id === "raw" || size <= 90 * MiB ? "one PUT" : `${Math.ceil(size / (10 * MiB))} parts`;
      rows.push([
        uploaders[id]!.label,
        mb(size),
        how,
        seconds.toFixed(3),
        (size / MiB / seconds).toFixed(0),
        (seconds / rawSeconds).toFixed(2),
      ]);
      figures[key]![id] = { mbPerSecond: round(size / MiB / seconds, 1), roundsSeconds: perRound[id]!.map((s) => round(s, 3)) };
    }
  }
  table(`Uploads b. Upload throughput on loopback (mock server in its own process; median of ${ROUNDS} rounds)`, rows);
  return { rounds: ROUNDS, sizes: figures };
}

/** One upload, timed; then the mock is asked what it stored (the whole file, or the run is wrong) and forgets it. */
async function timedUpload(server: MockProcess, upload: Uploader, blob: Blob): Promise<number> {
  const t0 = performance.now();
  const url = await upload(blob);
  const seconds = (performance.now() - t0) / 1000;
  const { uploads } = await server.ask<{ uploads: { size: number }[] }>("reset");
  if (typeof url !== "string" || uploads.length !== 1 || uploads[0]!.size !== blob.size)
    throw new Error(`upload of ${blob.size} bytes: got ${url}, the mock stored ${JSON.stringify(uploads)}`);
  return seconds;
}

/** fal's single-upload flow by hand: the floor for any client. */
async function rawUpload(baseUrl: string, blob: Blob): Promise<string> {
  const initiated = await fetch(`${baseUrl}/storage/upload/initiate?storage_type=fal-cdn-v3`, {
    method: "POST",
    headers: { authorization: "Key bench", "content-type": "application/json" },
    body: JSON.stringify({ content_type: blob.type, file_name: "bench.jpg" }),
  });
  if (!initiated.ok) throw new Error(`initiate: HTTP ${initiated.status}`);
  const { upload_url, file_url } = (await initiated.json()) as { upload_url: string; file_url: string };
  const put = await fetch(upload_url, { method: "PUT", body: blob, headers: { "content-type": blob.type } });
  if (!put.ok) throw new Error(`PUT: HTTP ${put.status}`);
  await put.arrayBuffer();
  return file_url;
}

function jpegBlob(size: number): Blob {
  const bytes = new Uint8Array(size).fill(0x41);
  bytes.set(JPEG_SIGNATURE, 0);
  return new Blob([bytes], { type: "image/jpeg" });
}

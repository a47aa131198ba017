/**
 * The README's `console` samples, run: each `$ kontext …` line is run through the built bin and what it
 * prints is compared with the lines under it, so a sample cannot drift from the code. Request ids,
 * ports and seeds vary from run to run and are compared as placeholders; the plain progress lines on
 * stderr (`[0.4s] in queue`) are left out of the samples, and stdout and stderr are compared as one set
 * of lines (their interleaving on a terminal is not something a pipe can reproduce).
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closedPort, run, tempDir } from "./helpers.js";

const README = readFileSync(resolve(import.meta.dirname, "../README.md"), "utf8");

interface Sample {
  line: number;
  args: string[];
  env: Record<string, string>;
  expected: string[];
}

/** Every ```console block: `$ ` lines are commands, the lines up to the next command are its output. */
function samples(markdown: string): Sample[] {
  const found: Sample[] = [];
  for (const block of markdown.matchAll(/^```console\n([\s\S]*?)^```/gm)) {
    const startLine = markdown.slice(0, block.index).split("\n").length + 1;
    block[1]!.split("\n").forEach((text, index) => {
      if (text.startsWith("$ ")) {
        const words = shellSplit(text.slice(2));
        const env: Record<string, string> = {};
        while (words[0] && /^[A-Z_]+=/.test(words[0])) {
          const [name, ...value] = words.shift()!.split("=");
          env[name!] = value.join("=");
        }
        expect(words.shift(), `README line ${startLine + index}`).toBe("kontext");
        found.push({ line: startLine + index, args: words, env, expected: [] });
      } else if (text.trim()) {
        found.at(-1)?.expected.push(text);
      }
    });
  }
  return found;
}

/** Enough of a POSIX shell's word splitting for the samples: spaces, and double-quoted words. */
function shellSplit(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

/** The parts that change from run to run, as placeholders. */
function normalise(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-(?:[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|…)/g, "<id>")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
    .replace(/seed \d+/g, "seed <n>");
}

const isProgress = (line: string) => /^\[\d+\.\ds\] /.test(line);

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await tempDir();
  // The --out sample points at a file that must exist.
  await writeFile(join(dir.path, "notes.txt"), "not a directory");
});
afterEach(async () => {
  await dir.remove();
});

const all = samples(README);

describe("the README's console samples", () => {
  it("are there to check", () => {
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const sample of all) expect(sample.expected.length, `README line ${sample.line}`).toBeGreaterThan(0);
  });

  it.each(all.map((sample) => [sample.line, sample] as const))(
    "README line %i prints what the README shows",
    async (_, sample) => {
      // `--base-url http://127.0.0.1:4010` in a sample means "a server that is not running".
      const port = await closedPort();
      const args = sample.args.map((arg) =>
        arg.replace("127.0.0.1:4010", `127.0.0.1:${port}`).replace(/^([0-9a-f]{8})-…$/, "$1-0000-4000-8000-000000000000"),
      );
      const result = await run(args, { cwd: dir.path, env: sample.env });
      const printed = `${result.stdout}\n${result.stderr}`
        .split("\n")
        .filter((line) => line.trim() && !isProgress(line))
        .map(normalise)
        .sort();
      expect(printed).toEqual(sample.expected.map(normalise).sort());
    },
  );
});

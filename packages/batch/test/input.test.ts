import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkJobs, numbered, parseCsv, parseCsvJobs, parseJsonlJobs, readJobsFile } from "../src/index.js";
import { ENDPOINT, tempDir } from "./helpers.js";

const EDIT = "fal-ai/flux-pro/kontext/max";
const jsonl = (...values: unknown[]) => values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("\n");

describe("parseJsonlJobs", () => {
  it("keeps good lines and reports each bad one with its line number and field", () => {
    const text = jsonl(
      { id: "a", endpoint: ENDPOINT, input: { prompt: "a fox" } },
      "",
      { id: "b", endpoint: EDIT, input: { prompt: "no image" } },
      "{not json",
      { id: "c", endpoint: ENDPOINT, input: { prompt: "x", num_images: 9 } },
      { id: "d", endpoint: "fal-ai/nope", input: { prompt: "x" } },
      { id: "a", endpoint: ENDPOINT, input: { prompt: "again" } },
      { id: "has space", endpoint: ENDPOINT, input: { prompt: "x" } },
      { id: 7, endpoint: ENDPOINT, input: { prompt: "numeric ids are fine" } },
    );
    const { jobs, lines, problems } = parseJsonlJobs(text);
    expect(jobs.map((j) => j.id)).toEqual(["a", "7"]);
    expect(lines).toEqual([1, 9]);
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [3, "input.image_url"],
      [4, "line"],
      [5, "input.num_images"],
      [6, "endpoint"],
      [7, "id"],
      [8, "id"],
    ]);
    expect(problems[0]!.message).toMatch(/^line 3: /);
    expect(problems[2]!.rule).toBe("maximum");
    expect(problems[4]!.message).toMatch(/already used on line 1/);
  });

  it("fills in a default endpoint for lines that name none", () => {
    const { jobs, problems } = parseJsonlJobs(jsonl({ id: "a", input: { prompt: "x" } }), { endpoint: ENDPOINT });
    expect(problems).toEqual([]);
    expect(jobs[0]!.endpoint).toBe(ENDPOINT);
  });
});

describe("CSV", () => {
  it("parses quoted cells with commas, quotes and newlines, keeping each row's starting line", () => {
    const rows = parseCsv('id,prompt\n1,"a, b"\n2,"say ""hi""\nsecond line"\n3,plain\n');
    expect(rows.map((r) => [r.line, r.cells])).toEqual([
      [1, ["id", "prompt"]],
      [2, ["1", "a, b"]],
      [3, ["2", 'say "hi"\nsecond line']],
      [5, ["3", "plain"]],
    ]);
  });

  it("turns columns into typed input fields and reports bad rows by line", () => {
    const text = [
      "id,endpoint,prompt,num_images,seed,enhance_prompt,image_urls",
      `a,${ENDPOINT},a fox,2,42,true,`,
      `b,fal-ai/flux-pro/kontext/max/multi,merge,,,,https://x.test/1.png|https://x.test/2.png`,
      `c,${ENDPOINT},bad count,nine,,,`,
    ].join("\n");
    const { jobs, problems } = parseCsvJobs(text);
    expect(jobs[0]).toEqual({
      id: "a",
      endpoint: ENDPOINT,
      input: { prompt: "a fox", num_images: 2, seed: 42, enhance_prompt: true },
    });
    expect(jobs[1]!.input).toEqual({ prompt: "merge", image_urls: ["https://x.test/1.png", "https://x.test/2.png"] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 4, id: "c", field: "input.num_images" });
  });

  it("reads a .csv file as CSV and anything else as JSONL", async () => {
    const dir = await tempDir("input");
    await writeFile(join(dir, "jobs.csv"), `id,prompt\nx,a fox\n`);
    await writeFile(join(dir, "jobs.txt"), `${JSON.stringify({ id: "y", input: { prompt: "a fox" } })}\n`);
    expect((await readJobsFile(join(dir, "jobs.csv"), { endpoint: ENDPOINT })).jobs[0]!.id).toBe("x");
    expect((await readJobsFile(join(dir, "jobs.txt"), { endpoint: ENDPOINT })).jobs[0]!.id).toBe("y");
  });
});

describe("checkJobs over an iterable", () => {
  it("numbers items from 1", () => {
    const { problems } = checkJobs(
      numbered([
        { id: "a", endpoint: ENDPOINT, input: { prompt: "x" } },
        { id: "b", endpoint: ENDPOINT, input: {} },
      ]),
    );
    expect(problems).toMatchObject([{ line: 2, field: "input.prompt", rule: "required" }]);
  });
});

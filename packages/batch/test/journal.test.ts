import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JournalError, openJournal, readJournal, replayJournal } from "../src/index.js";
import { tempDir } from "./helpers.js";

const line = (record: object) => `${JSON.stringify(record)}\n`;

describe("replayJournal", () => {
  it("folds records into each job's last state", () => {
    const text = [
      line({ type: "intent", id: "a", at: 1 }),
      line({ type: "submitted", id: "a", requestId: "req-a", at: 2 }),
      line({ type: "intent", id: "b", at: 3 }),
      line({ type: "intent", id: "c", at: 4 }),
      line({ type: "released", id: "c", at: 5, status: 429 }),
      line({ type: "intent", id: "d", at: 6 }),
      line({ type: "submitted", id: "d", requestId: "req-d", at: 7 }),
      line({
        type: "completed",
        id: "d",
        at: 8,
        summary: { requestId: "req-d", files: ["d-0.png"], timings: { completedAt: 8 } },
      }),
      line({ type: "failed", id: "e", at: 9, error: { reason: "rejected", message: "401", status: 401 } }),
    ].join("");
    const { jobs, records, tornBytes } = replayJournal(text);
    expect(records).toBe(9);
    expect(tornBytes).toBe(0);
    expect(jobs.get("a")).toEqual({ state: "submitted", requestId: "req-a", submittedAt: 2 });
    expect(jobs.get("b")).toEqual({ state: "uncertain", intentAt: 3 });
    expect(jobs.get("c")).toEqual({ state: "pending" });
    expect(jobs.get("d")?.state).toBe("completed");
    expect(jobs.get("e")).toMatchObject({ state: "failed", error: { reason: "rejected", status: 401 } });
  });

  it("drops a torn last line (a kill mid-write) and reports its size", () => {
    const good = line({ type: "intent", id: "a", at: 1 }) + line({ type: "submitted", id: "a", requestId: "r", at: 2 });
    const torn = '{"type":"completed","id":"a","at":3,"summ';
    const result = replayJournal(good + torn);
    expect(result.records).toBe(2);
    expect(result.tornBytes).toBe(torn.length);
    expect(result.jobs.get("a")?.state).toBe("submitted");
  });

  it("drops a complete last record without its newline too: it was never fsync'd, so never acted on", () => {
    const result = replayJournal(
      line({ type: "intent", id: "a", at: 1 }) + JSON.stringify({ type: "submitted", id: "a", requestId: "r", at: 2 }),
    );
    expect(result.jobs.get("a")?.state).toBe("uncertain");
  });

  it("refuses damage anywhere else, naming the line", () => {
    const text = line({ type: "intent", id: "a", at: 1 }) + "not json\n" + line({ type: "intent", id: "b", at: 2 });
    expect(() => replayJournal(text)).toThrow(JournalError);
    try {
      replayJournal(text);
    } catch (error) {
      expect((error as JournalError).line).toBe(2);
      expect((error as Error).message).toMatch(/line 2/);
    }
  });

  it("ignores record types it does not know (a newer runner's)", () => {
    const { jobs, records } = replayJournal(line({ type: "note", id: "a", at: 1 }) + line({ type: "intent", id: "a", at: 2 }));
    expect(records).toBe(2);
    expect(jobs.get("a")?.state).toBe("uncertain");
  });
});

describe("openJournal", () => {
  it("cuts a torn tail off before appending, so the next record starts on its own line", async () => {
    const dir = await tempDir("journal");
    const path = join(dir, "journal.jsonl");
    await writeFile(path, line({ type: "intent", id: "a", at: 1 }));
    await appendFile(path, '{"type":"submitted","id":"a","requ');
    const { writer, replay } = await openJournal(path);
    expect(replay.tornBytes).toBeGreaterThan(0);
    await writer.append({ type: "released", id: "a", at: 2 });
    await writer.close();
    const text = await readFile(path, "utf8");
    expect(
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).type),
    ).toEqual(["intent", "released"]);
    expect((await readJournal(path)).jobs.get("a")).toEqual({ state: "pending" });
  });

  it("resolves each append only once it is on disk, and groups appends made together into fewer fsyncs", async () => {
    const dir = await tempDir("journal");
    const path = join(dir, "journal.jsonl");
    const { writer } = await openJournal(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.append({ type: "intent", id: `j${i}`, at: i })));
    expect(writer.syncs).toBeGreaterThan(0);
    expect(writer.syncs).toBeLessThan(50);
    const replay = await readJournal(path);
    expect(replay.records).toBe(50);
    await writer.close();
  });

  it("treats a missing journal as empty", async () => {
    const dir = await tempDir("journal");
    expect((await readJournal(join(dir, "none.jsonl"))).records).toBe(0);
  });
});

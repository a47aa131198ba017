import { describe, expect, it } from "vitest";
import { mergeLogs } from "../src/index.js";

const line = (message: string, timestamp = "2025-01-01T00:00:00Z") => ({ message, timestamp, level: "INFO" });

describe("mergeLogs", () => {
  it("replaces with a cumulative list (what polling returns)", () => {
    const current = [line("a")];
    expect(mergeLogs(current, [line("a"), line("b")])).toEqual([line("a"), line("b")]);
  });

  it("appends new lines only (what a stream may send)", () => {
    expect(mergeLogs([line("a")], [line("b")])).toEqual([line("a"), line("b")]);
  });

  it("keeps identical lines that really repeat", () => {
    expect(mergeLogs([line("tick")], [line("tick"), line("tick")])).toEqual([line("tick"), line("tick")]);
    expect(mergeLogs([line("tick", "t1")], [line("tick", "t2")])).toEqual([line("tick", "t1"), line("tick", "t2")]);
  });

  it("leaves the list alone when nothing came", () => {
    const current = [line("a")];
    expect(mergeLogs(current, undefined)).toBe(current);
    expect(mergeLogs(current, null)).toBe(current);
    expect(mergeLogs(current, [])).toBe(current);
  });
});

/**
 * The protocol core's SSE reader (the client and the contract kit both read fal's status stream with it):
 * line endings split across chunks, multi-line data, comments, and the fields fal's stream does not use.
 */
import { describe, expect, it } from "vitest";
import { createSseParser } from "../src/protocol/index.js";

function parse(chunks: string[]) {
  const messages: unknown[] = [];
  const feed = createSseParser((message) => messages.push(message));
  let waiting = 0;
  for (const chunk of chunks) waiting = feed(chunk);
  return { messages, waiting };
}

describe("createSseParser", () => {
  it("dispatches one event per blank line, whatever the line ending", () => {
    for (const ending of ["\n", "\r\n", "\r"]) {
      const text = `data: {"status":"IN_QUEUE"}${ending}${ending}data: {"status":"COMPLETED"}${ending}${ending}`;
      expect(parse([text]).messages).toEqual([{ data: '{"status":"IN_QUEUE"}' }, { data: '{"status":"COMPLETED"}' }]);
    }
  });

  it("joins a CRLF split between two chunks, and a line split anywhere", () => {
    const text = 'data: {"status":"IN_PROGRESS"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(parse([text.slice(0, cut), text.slice(cut)]).messages, `cut at ${cut}`).toEqual([
        { data: '{"status":"IN_PROGRESS"}' },
      ]);
    }
  });

  it("joins multi-line data with newlines, strips one leading space, and ignores event, id and retry", () => {
    const text = "event: status\nid: 7\nretry: 10\ndata:first\ndata:  second\n\n";
    expect(parse([text]).messages).toEqual([{ data: "first\n second" }]);
  });

  it("reports comments (keep-alives) and nothing for a blank line without data", () => {
    expect(parse([": keep-alive\n\n\n"]).messages).toEqual([{ comment: true }]);
  });

  it("treats a bare `data` line as an empty data field, and dispatches an empty event", () => {
    expect(parse(["data\n\n", "data:\n\n"]).messages).toEqual([{ data: "" }, { data: "" }]);
  });

  it("holds an unterminated last event until a blank line arrives (the contract kit names such streams)", () => {
    const messages: unknown[] = [];
    const feed = createSseParser((message) => messages.push(message));
    feed('data: {"status":"COMPLETED"}\n');
    expect(messages).toEqual([]);
    feed("\n");
    expect(messages).toEqual([{ data: '{"status":"COMPLETED"}' }]);
  });

  it("says how much text waits for a line end (the reader caps it)", () => {
    expect(parse(["data: {", '"status":']).waiting).toBe('data: {"status":'.length);
    expect(parse(["x".repeat(10)]).messages).toEqual([]);
  });
});

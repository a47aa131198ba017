/**
 * A server that echoes the key back must not get any of it into a report. The runner cuts long answers
 * to a readable length; if it cut before redacting, a key straddling the cut would survive in part
 * (its tail is gone, so the whole-key redaction no longer matches). Each upstream here echoes the
 * `Authorization` header over real loopback HTTP, in a different kind of answer.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ContractReport, formatReport, runContract, toJUnit } from "../src/index.js";
import { createFakeFal, serve } from "./fake-fal.js";

// A long secret in an `id:secret` key: long enough that any cut near 80 or 120 characters lands inside it.
// Upper case on purpose, so no request id or UUID in a report can match a window of it by chance.
const SECRET = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcbaQWERTYUIOPASDF";
const KEY = `kontext-test-key-id:${SECRET}`;
const WINDOW = 8;

/** An upstream's answer to one request; `fake` is a correct fake fal, for calls the echo leaves alone. */
type Echo = (request: Request, fake: ReturnType<typeof createFakeFal>) => Promise<Response>;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const authOf = (request: Request) => request.headers.get("authorization") ?? "(none)";
const answer = (status: number, type: string, body: string) => new Response(body, { status, headers: { "content-type": type } });

/** Every kind of answer that echoes the key, each becoming a message the runner cuts. */
const ECHOES: Record<string, Echo> = {
  "a 401 whose JSON detail echoes the key": async (request) =>
    answer(401, "application/json", JSON.stringify({ detail: `bad: ${authOf(request)}` })),
  "a 500 whose plain-text body echoes the key": async (request) =>
    answer(500, "text/plain", `upstream failed for ${authOf(request)}`),
  "a 200 in the wrong shape (not JSON) echoing the key": async (request) => answer(200, "text/plain", `ok ${authOf(request)}`),
  "a 200 in the wrong shape (JSON) echoing the key": async (request) =>
    answer(200, "application/json", JSON.stringify({ message: `ok ${authOf(request)}` })),
  "a status stream whose events echo the key": async (request, fake) => {
    // The stream needs a job to stream: every other call goes to the correct fake.
    if (!new URL(request.url).pathname.endsWith("/status/stream")) return fake.handler(request);
    return answer(200, "text/event-stream", `data: not json ${authOf(request)}\n\n`);
  },
};

async function runAgainstEcho(echo: Echo): Promise<ContractReport> {
  const fake = createFakeFal();
  const server = await serve((request) => echo(request, fake));
  cleanups.push(server.close);
  return runContract({
    baseUrl: server.url,
    syncBaseUrl: server.url,
    credentials: KEY,
    endpoints: ["fal-ai/flux-pro/kontext"],
    pollIntervalMs: 0,
    timeoutMs: 5_000,
  });
}

/** The pieces of the secret (every `WINDOW`-character run of it) found in `text`. */
const fragmentsIn = (text: string) =>
  Array.from({ length: SECRET.length - WINDOW + 1 }, (_, start) => SECRET.slice(start, start + WINDOW)).filter((piece) =>
    text.includes(piece),
  );

describe("runContract with a server that echoes the key", () => {
  for (const [label, echo] of Object.entries(ECHOES)) {
    it(`keeps no ${WINDOW}-character piece of the secret: ${label}`, async () => {
      const report = await runAgainstEcho(echo);
      expect(report.failed).toBeGreaterThan(0);
      const texts = report.checks.flatMap((check) => [...check.violations.map((v) => v.message), ...(check.notes ?? [])]);
      expect(texts.flatMap(fragmentsIn)).toEqual([]);
      expect(fragmentsIn(JSON.stringify(report))).toEqual([]);
      expect(fragmentsIn(formatReport(report, { verbose: true }))).toEqual([]);
      expect(fragmentsIn(toJUnit(report))).toEqual([]);
    });
  }

  it("shows where the key was, so the echo reached the report at all", async () => {
    for (const label of [
      "a 401 whose JSON detail echoes the key",
      "a 500 whose plain-text body echoes the key",
      "a status stream whose events echo the key",
    ]) {
      const report = await runAgainstEcho(ECHOES[label]!);
      expect(JSON.stringify(report), label).toContain("[redacted]");
    }
  });
});

/**
 * The status stream: `text/event-stream`, each event a valid `QueueStatus` on owner/app URLs, never
 * going backwards, and a COMPLETED event before the stream ends.
 */
import type { EndpointId } from "@kontext-sdk/schema";
import { createSseParser, isFinished, truncate } from "@kontext-sdk/schema/protocol";
import { checkProgress, checkQueueUrls } from "../protocol-rules.js";
import { errorText, queueUrl, type Recorder, type RunContext, urlContext } from "../run/context.js";
import { requestHeaders, withTimeout } from "../run/http.js";
import { validateResponse } from "../validate-response.js";

const base = (status: number) => ({ operationId: "streamStatus" as const, status });

/** Checks the events of one open stream as they arrive. */
class StreamJudge {
  events = 0;
  completed = false;

  constructor(
    private readonly context: RunContext,
    private readonly recorder: Recorder,
    private readonly endpoint: EndpointId,
    private readonly requestId: string,
    private readonly headers: Headers,
    public last: string | undefined,
  ) {}

  onEvent(message: { data: string }): void {
    const path = `$[${this.events++}]`;
    // Redacted before it is parsed or shortened, as `send` does for every other answer.
    const data = this.context.redact(message.data);
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      this.recorder.violations.push({
        ...base(200),
        rule: "invalid-json",
        path,
        message: `event is not JSON: ${truncate(data, 80)}`,
      });
      return;
    }
    // Each event is checked alone, so a bad one is named by its index in the stream.
    for (const violation of validateResponse("streamStatus", 200, [event], this.headers)) {
      this.recorder.violations.push({ ...violation, path: violation.path.replace(/^\$\[0\]/, path) });
    }
    const urls = urlContext(this.context, this.endpoint, this.requestId);
    this.recorder.violations.push(...checkQueueUrls(event, urls, base(200), path));
    const state = (event as { status?: unknown } | null)?.status;
    this.recorder.violations.push(...checkProgress(this.last, state, base(200), `${path}.status`));
    if (typeof state === "string") this.last = state;
    if (typeof state === "string" && isFinished(state)) this.completed = true;
  }
}

/** A non-stream answer (an error, a wrong content type): checked against the spec like any other. */
async function judgeNonStream(context: RunContext, recorder: Recorder, response: Response): Promise<void> {
  const text = context.redact(await response.text());
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  recorder.violations.push(...validateResponse("streamStatus", response.status, body, response.headers));
  if (response.status === 404) {
    recorder.violations.push({
      ...base(404),
      rule: "owner-app-path",
      path: "$",
      message: "the status stream answered 404 for a request just submitted",
    });
  }
}

/** Reads the stream until COMPLETED (or its end, or `timeoutMs`); returns the last state seen. */
export async function readStream(
  context: RunContext,
  recorder: Recorder,
  endpoint: EndpointId,
  requestId: string,
  previous?: string,
): Promise<{ last: string | undefined }> {
  // The whole read, not one call, is bounded by `timeoutMs`: a stream may rightly stay open that long.
  const signal = withTimeout(context.signal, context.timeoutMs);
  const url = queueUrl(context, endpoint, requestId, "stream", "?logs=1");
  let judge: StreamJudge | undefined;
  try {
    const response = await context.fetch(url, {
      headers: requestHeaders(context, "text/event-stream"),
      signal,
    });
    const type = response.headers.get("content-type") ?? "";
    if (response.status !== 200 || !type.includes("text/event-stream") || !response.body) {
      await judgeNonStream(context, recorder, response);
      return { last: previous };
    }
    judge = new StreamJudge(context, recorder, endpoint, requestId, response.headers, previous);
    const events = judge;
    // The protocol core's SSE parser (the client's too); comments are keep-alives, not events.
    const feed = createSseParser((message) => {
      if ("data" in message) events.onEvent(message);
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    while (!judge.completed) {
      const { done, value } = await reader.read();
      if (done) break;
      feed(value);
    }
    // Stop reading once COMPLETED arrived: a server that keeps the stream open is not our concern.
    await reader.cancel().catch(() => {});
    recorder.notes.push(`${judge.events} event${judge.events === 1 ? "" : "s"}`);
    if (!judge.completed) {
      recorder.violations.push({
        ...base(response.status),
        rule: "stream-closed-early",
        path: "$",
        message: `the stream ended after ${judge.last ?? "no"} event, before COMPLETED`,
      });
    }
    return { last: judge.last };
  } catch (error) {
    if (context.signal?.aborted) throw context.signal.reason;
    // The run's own abort was rethrown above, so an aborted signal here means the timeout fired.
    const timedOut = signal.aborted;
    recorder.violations.push({
      operationId: "streamStatus",
      rule: timedOut ? "not-completed" : "network-error",
      path: "$",
      message: timedOut ? `no COMPLETED event within ${context.timeoutMs} ms` : errorText(error),
    });
    return { last: judge?.last ?? previous };
  }
}

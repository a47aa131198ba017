/**
 * `mock.requests`: what the mock was asked, newest last, bounded in count and in size. Credentials
 * are redacted; large bodies are kept in summary (long strings and lists cut, `bodyBytes` says how big
 * the original was), so a test that uploads data URIs, or a hostile client, cannot grow the log without
 * bound. Every header is kept (fal's platform headers — `x-fal-store-io`, `x-fal-no-retry`,
 * `x-fal-queue-priority`, `x-fal-runner-hint`, `x-fal-request-timeout`,
 * `x-fal-object-lifecycle-preference` — among them), so tests can assert what a client sent.
 */
import { REDACTED, redactor } from "@kontext-sdk/schema/protocol";
import type { MockOperation } from "./faults.js";

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names; the Authorization (and `x-fal-key`) value is redacted. */
  headers: Record<string, string>;
  /**
   * Parsed JSON when the body is JSON, the raw text otherwise, undefined without a body. Bodies over the
   * log's size cap are kept in summary (strings and lists cut), or as the cut text when even that is too big.
   */
  body: unknown;
  /** The body's size in bytes as received (0 without a body). */
  bodyBytes: number;
  /** True when `body` is a summary, not the whole body. */
  bodyTruncated?: boolean;
  /** The operation the router matched, if any. */
  operation?: MockOperation;
  /** Clock time of arrival. */
  time: number;
}

export interface RequestLogOptions {
  /** Entries kept (the oldest are dropped). */
  maxEntries: number;
  /** Bytes of body kept per entry. */
  maxBodyBytes: number;
}

/** A long string in a summarised body keeps this many characters. */
const SUMMARY_STRING = 256;
/** A long list in a summarised body keeps this many items. */
const SUMMARY_ITEMS = 20;

export class RequestLog {
  readonly entries: RecordedRequest[] = [];
  /** The redactor for the credentials last seen: a client sends the same key on every request. */
  private lastRedactor: { key: string; clean: (text: string) => string } | undefined;

  constructor(private readonly options: RequestLogOptions) {}

  /** Records a request (its body already read as `text`, parsed as `parsed` when it was JSON). */
  record(request: Request, url: URL, text: string, parsed: unknown, time: number): RecordedRequest {
    const headers = request.headers;
    // The credential is cut out of everything kept from the head of the request, wherever a client put it.
    const clean = this.redactorFor(credentialsIn(headers));
    const entry: RecordedRequest = {
      method: request.method,
      url: clean(url.href),
      path: clean(url.pathname),
      query: recordedQuery(url, clean),
      headers: recordedHeaders(headers, clean),
      ...this.recordedBody(text, parsed, headers),
      time,
    };
    this.entries.push(entry);
    // One in, one out, from the front: `shift()` is constant time on V8 where `splice(0, n)` moves the
    // whole array (about 60 µs per request once 10,000 entries are kept).
    while (this.entries.length > this.options.maxEntries) this.entries.shift();
    return entry;
  }

  clear(): void {
    this.entries.length = 0;
    this.lastRedactor = undefined;
  }

  /**
   * The redactor for these secrets. Their forms (base64, URL-encoded, …) are worked out once per key, not
   * once per request, since a client polls with the same one.
   */
  private redactorFor(secrets: string[]): (text: string) => string {
    const key = secrets.join("\n");
    if (this.lastRedactor?.key !== key) this.lastRedactor = { key, clean: redactor(secrets) };
    return this.lastRedactor.clean;
  }

  private recordedBody(
    text: string,
    parsed: unknown,
    headers: Headers,
  ): Pick<RecordedRequest, "body" | "bodyBytes" | "bodyTruncated"> {
    if (!text) return { body: undefined, bodyBytes: 0 };
    const bodyBytes = utf8.encode(text).length;
    const cap = this.options.maxBodyBytes;
    const value = parsed !== undefined ? parsed : looksJson(text, headers.get("content-type")) ? undefined : text;
    if (bodyBytes <= cap) return { body: value ?? text, bodyBytes };
    if (value !== undefined && typeof value !== "string") {
      const summary = summarise(value, 0);
      if (JSON.stringify(summary).length <= cap) return { body: summary, bodyBytes, bodyTruncated: true };
    }
    return { body: `${text.slice(0, cap)}…`, bodyBytes, bodyTruncated: true };
  }
}

const utf8 = new TextEncoder();

/** The query's parameters, redacted; a URL without one (most requests) makes no `URLSearchParams`. */
function recordedQuery(url: URL, clean: (text: string) => string): Record<string, string> {
  if (!url.search) return {};
  return Object.fromEntries([...url.searchParams].map(([name, value]) => [name, clean(value)]));
}

function looksJson(text: string, contentType: string | null): boolean {
  return !!contentType?.includes("json") || /^\s*[{[]/.test(text);
}

const CREDENTIAL_HEADERS = ["authorization", "x-fal-key"];

/** The secrets a request carries: the credential part of `Authorization` / `x-fal-key`. */
function credentialsIn(headers: Headers): string[] {
  return CREDENTIAL_HEADERS.map((name) =>
    headers
      .get(name)
      ?.replace(/^(Key|Bearer)\s+/i, "")
      .trim(),
  ).filter((secret): secret is string => !!secret);
}

/**
 * Header values as received. The credential headers keep only their scheme (`Key [redacted]`), so a
 * test can still see which one was used; every other value has the credential cut out by the core's
 * redaction (a client that echoed its key into another header is caught too).
 */
function recordedHeaders(headers: Headers, clean: (text: string) => string): Record<string, string> {
  const recorded: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (CREDENTIAL_HEADERS.includes(name)) {
      const scheme = /^(Key|Bearer)\s/i.exec(value)?.[1];
      recorded[name] = scheme ? `${scheme} ${REDACTED}` : REDACTED;
    } else recorded[name] = clean(value);
  });
  return recorded;
}

/** A copy of a JSON value with long strings and lists cut, for the log. */
function summarise(value: unknown, depth: number): unknown {
  if (typeof value === "string") {
    return value.length > SUMMARY_STRING ? `${value.slice(0, SUMMARY_STRING)}… (${value.length} characters)` : value;
  }
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return Array.isArray(value) ? "[…]" : "{…}";
  if (Array.isArray(value)) {
    const kept = value.slice(0, SUMMARY_ITEMS).map((item) => summarise(item, depth + 1));
    return value.length > SUMMARY_ITEMS ? [...kept, `… (${value.length} items)`] : kept;
  }
  const entries = Object.entries(value);
  const kept = entries.slice(0, SUMMARY_ITEMS).map(([key, item]) => [key, summarise(item, depth + 1)] as const);
  if (entries.length > SUMMARY_ITEMS) kept.push(["…", `${entries.length} keys`]);
  return Object.fromEntries(kept);
}

/**
 * Fault injection. A rule says which requests it hits (operation, endpoint, request id, a
 * count window, a probability drawn from the mock's seeded generator) and what goes wrong.
 * The same shape is accepted per request in the `x-kontext-mock-fault` header.
 */
import { seededRandom } from "./images/picture.js";

/** The operations the router knows; fault rules and recorded requests name them. */
export type MockOperation = "submit" | "status" | "stream" | "result" | "cancel" | "run" | "files";

export const OPERATIONS: readonly MockOperation[] = ["submit", "status", "stream", "result", "cancel", "run", "files"];

export type Fault =
  /** Answer with this status (default: a spec-listed error for the operation), fal's flat body and optional Retry-After (seconds). */
  | { kind: "status"; status?: number; body?: unknown; headers?: Record<string, string>; retryAfter?: number }
  /** Wait this long (on the mock's clock) before answering; combines with other faults. */
  | { kind: "latency"; ms: number }
  /** Drop the connection: the server destroys the socket, `mock.fetch` rejects like fetch does, MSW answers a network error. */
  | { kind: "reset" }
  /** A truncated JSON body with a success status (default 200), so the client's parser fails. */
  | { kind: "malformed-json"; status?: number }
  /** An HTML error page (default 502), as a proxy or load balancer would answer. */
  | { kind: "html"; status?: number; html?: string }
  /** The status stream breaks after this many events (default 1) without reaching COMPLETED. */
  | { kind: "stream-drop"; afterEvents?: number }
  /** The job reaches COMPLETED, then its result answers this error (422 field errors by default, or 500). */
  | { kind: "fail-at-result"; status?: 422 | 500; body?: unknown };

export type FaultKind = Fault["kind"];

export interface FaultMatch {
  /** Operations hit; by default every operation but `files` (`stream-drop`: stream; `fail-at-result`: submit and run). */
  operation?: MockOperation | readonly MockOperation[];
  /** Endpoint ids hit; queue operations match the job's endpoint. */
  endpoint?: string | readonly string[];
  /** Only this job. */
  requestId?: string;
  /** Let the first `skip` matching requests through. */
  skip?: number;
  /** Fire at most this many times (default: every time). */
  times?: number;
  /** Chance in [0, 1] that a matching request is hit, drawn from the mock's seeded generator. */
  probability?: number;
}

export type FaultRule = FaultMatch & Fault;

export interface FaultTarget {
  operation: MockOperation;
  endpoint?: string;
  requestId?: string;
}

function defaultOperations(kind: FaultKind): readonly MockOperation[] {
  if (kind === "stream-drop") return ["stream"];
  if (kind === "fail-at-result") return ["submit", "run"];
  return OPERATIONS.filter((o) => o !== "files");
}

const asList = <T>(v: T | readonly T[] | undefined): readonly T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v as T];

interface Armed {
  rule: FaultRule;
  matched: number;
  fired: number;
}

export class FaultSet {
  private armed: Armed[] = [];
  private random: () => number;

  constructor(rules: readonly FaultRule[] = [], seed = 0x5eed) {
    this.random = seededRandom(seed);
    for (const r of rules) this.add(r);
  }

  add(rule: FaultRule) {
    this.armed.push({ rule, matched: 0, fired: 0 });
  }

  clear(rules: readonly FaultRule[] = []) {
    this.armed = [];
    for (const r of rules) this.add(r);
  }

  /** The faults that hit this request, counting it against each matching rule. */
  take(target: FaultTarget): Fault[] {
    const hits: Fault[] = [];
    for (const a of this.armed) {
      const r = a.rule;
      if (!(asList(r.operation) ?? defaultOperations(r.kind)).includes(target.operation)) continue;
      const endpoints = asList(r.endpoint);
      if (endpoints && (!target.endpoint || !endpoints.includes(target.endpoint))) continue;
      if (r.requestId !== undefined && r.requestId !== target.requestId) continue;
      a.matched++;
      if (a.matched <= (r.skip ?? 0)) continue;
      if (r.times !== undefined && a.fired >= r.times) continue;
      if (r.probability !== undefined && !(this.random() < r.probability)) continue;
      a.fired++;
      hits.push(r);
    }
    return hits;
  }
}

/** Reads the per-request fault header: a fault kind (`reset`) or a JSON fault (`{"kind":"status","status":503}`). */
export function faultFromHeader(value: string | null): Fault | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (text.startsWith("{")) {
    try {
      const parsed = JSON.parse(text) as Fault;
      return typeof parsed?.kind === "string" ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  const kinds: FaultKind[] = ["status", "latency", "reset", "malformed-json", "html", "stream-drop", "fail-at-result"];
  return kinds.includes(text as FaultKind) ? ({ kind: text } as Fault) : undefined;
}

export const FAULT_HEADER = "x-kontext-mock-fault";

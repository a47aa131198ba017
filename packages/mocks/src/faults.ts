/**
 * Fault injection. A rule says which requests it hits (operation, endpoint, request id, a
 * count window, a probability drawn from the mock's seeded generator) and what goes wrong.
 * The same shape is accepted per request in the `x-kontext-mock-fault` header.
 */
import type { FalErrorShapeName } from "./error-shapes.js";
import { seededRandom } from "./images/picture.js";

/** The operations the router knows; fault rules and recorded requests name them. */
export type MockOperation = "submit" | "status" | "stream" | "result" | "cancel" | "run" | "files" | "upload";

export const OPERATIONS: readonly MockOperation[] = ["submit", "status", "stream", "result", "cancel", "run", "files", "upload"];

export type Fault =
  /**
   * Answer with this status (default: a spec-listed error for the operation), fal's flat body and optional
   * Retry-After (seconds). `shape` starts from one of fal's real answers (`FAL_ERROR_SHAPES`: a string-detail
   * 422, an array-detail 500, a locked account's 403, a user 504); `status`, `body` and `headers` override it.
   */
  | {
      kind: "status";
      shape?: FalErrorShapeName;
      status?: number;
      body?: unknown;
      headers?: Record<string, string>;
      retryAfter?: number;
    }
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
  /**
   * The job reaches COMPLETED, then its result answers this error: 422 field errors by default, a 500, or
   * one of fal's real answers by `shape` (with its headers).
   */
  | { kind: "fail-at-result"; status?: 422 | 500; shape?: FalErrorShapeName; body?: unknown };

export type FaultKind = Fault["kind"];

export interface FaultMatch {
  /** Operations hit; by default every operation but `files` and `upload` (the storage flow) (`stream-drop`: stream; `fail-at-result`: submit and run). */
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
  // Files and uploads only when named: a rule meant for the queue must not break the storage flow.
  return OPERATIONS.filter((operation) => operation !== "files" && operation !== "upload");
}

const asList = <T>(value: T | readonly T[] | undefined): readonly T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value as T];

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
    for (const rule of rules) this.add(rule);
  }

  add(rule: FaultRule) {
    this.armed.push({ rule, matched: 0, fired: 0 });
  }

  clear(rules: readonly FaultRule[] = []) {
    this.armed = [];
    for (const rule of rules) this.add(rule);
  }

  /** The faults that hit this request, counting it against each matching rule. */
  take(target: FaultTarget): Fault[] {
    const hits: Fault[] = [];
    for (const armed of this.armed) {
      if (this.fires(armed, target)) hits.push(armed.rule);
    }
    return hits;
  }

  /** Counts a matching request against the rule, and says whether the rule fires for it. */
  private fires(armed: Armed, target: FaultTarget): boolean {
    const rule = armed.rule;
    if (!(asList(rule.operation) ?? defaultOperations(rule.kind)).includes(target.operation)) return false;
    const endpoints = asList(rule.endpoint);
    if (endpoints && (!target.endpoint || !endpoints.includes(target.endpoint))) return false;
    if (rule.requestId !== undefined && rule.requestId !== target.requestId) return false;
    armed.matched++;
    if (armed.matched <= (rule.skip ?? 0)) return false;
    if (rule.times !== undefined && armed.fired >= rule.times) return false;
    if (rule.probability !== undefined && !(this.random() < rule.probability)) return false;
    armed.fired++;
    return true;
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

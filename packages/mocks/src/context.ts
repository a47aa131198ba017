/** What the operation handlers share: the mock's state, and the request being answered. */

import type { ParsedBody } from "./body.js";
import type { CancelTimer, MockClock } from "./clock.js";
import type { Fault } from "./faults.js";
import type { JobStore } from "./job-store.js";
import type { ResolvedTimeline } from "./timeline.js";
import type { WebhookDispatcher } from "./webhook-delivery.js";

/** Where a submit's input is validated: at submit (some gateways), or by the job, served at the result (fal). */
export type ValidateAt = "submit" | "result";

export interface MockState {
  clock: MockClock;
  timeline: ResolvedTimeline;
  validateAt: ValidateAt;
  /** A quiet status stream sends `: keep-alive` after this long. */
  keepAliveMs: number;
  store: JobStore;
  webhooks: WebhookDispatcher;
  setTimer(callback: () => void, ms: number): CancelTimer;
}

export interface RequestScope {
  request: Request;
  url: URL;
  /** The queue's prefix, for the URLs the answers carry. */
  origin: string;
  /** The faults that hit this request (those acting later, like `stream-drop`, are read from here). */
  hits: readonly Fault[];
  /** The body read as JSON. */
  body: ParsedBody;
}

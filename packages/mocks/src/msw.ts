/**
 * @kontext-sdk/mocks/msw — the simulator as MSW 2 request handlers, for node (`setupServer`)
 * and browsers (`setupWorker`). This is the only module that imports msw (an optional peer).
 */
import { type HttpHandler, http } from "msw";
import { createKontextMock, type KontextMock, type KontextMockOptions } from "./mock.js";

export interface KontextHandlersOptions {
  /** Queue host the client calls; default https://queue.fal.run. */
  baseUrl?: string;
  /** Sync host the client calls; default https://fal.run. */
  syncBaseUrl?: string;
}

const isMock = (v: unknown): v is KontextMock => typeof v === "function" && "handler" in v;

/**
 * Handlers answering the queue and sync hosts from one mock. Pass a mock to inspect it
 * (`mock.requests`, `mock.jobs`) or options to have one created.
 */
export function kontextHandlers(mock?: KontextMock | KontextMockOptions, options: KontextHandlersOptions = {}): HttpHandler[] {
  const target = isMock(mock) ? mock : createKontextMock(mock);
  const base = trim(options.baseUrl ?? "https://queue.fal.run");
  const syncBase = trim(options.syncBaseUrl ?? "https://fal.run");
  const routes = [
    { base, sync: false },
    { base: syncBase, sync: true },
  ].sort((a, b) => b.base.length - a.base.length); // the more specific prefix wins when one contains the other
  return routes.map(({ base, sync }) =>
    // A network-error Response (a reset fault) is passed through: MSW turns it into a failed fetch.
    http.all(`${base}/*`, ({ request }) => target.handler(request, { base, sync })),
  );
}

const trim = (url: string) => url.replace(/\/+$/, "");

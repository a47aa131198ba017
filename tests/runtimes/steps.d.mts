// Types for steps.mjs, which stays plain JavaScript so Node 20 can run it unbundled.
export type Feature =
  | "submit"
  | "stream"
  | "result"
  | "poll-fallback"
  | "cancel"
  | "validation"
  | "webhook"
  | "no-key-defaults"
  | "proxy"
  | "node-adapter";
export const FEATURES: readonly Feature[];
export const T2I: "fal-ai/flux-pro/kontext/text-to-image";
export const STREAM_DROP_ENDPOINT: "fal-ai/flux-pro/kontext/max/text-to-image";

export interface StepResult {
  feature: Feature;
  status: "pass" | "fail" | "n/a";
  detail: string;
}
export interface StepConfig {
  runtime: string;
  mockUrl: string;
  slowUrl: string;
  sinkUrl: string;
}
type Extra = (() => Promise<string>) | string;

export function runSteps(
  kx: {
    client: typeof import("@kontext-sdk/client");
    webhooks: typeof import("@kontext-sdk/client/webhooks");
    proxy: typeof import("@kontext-sdk/client/proxy");
  },
  config: StepConfig,
  report: (result: StepResult) => void,
  extras?: { proxy?: Extra; nodeAdapter?: Extra },
): Promise<void>;
export function proxyJob(
  kx: { client: typeof import("@kontext-sdk/client") },
  options: { proxyUrl: string; fetch: typeof fetch; headers?: Record<string, string>; prompt: string },
): Promise<{ requestId: string; calls: number }>;
export function foreignCallRefused(proxyFetch: (request: Request) => Promise<Response>, url: string): Promise<string>;

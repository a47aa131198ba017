/** Requests as browsers (and attackers) send them to a proxy mounted at /api/fal/proxy, and a proxy to send them to. */
import { createKontextProxy, type KontextProxyOptions } from "../../src/proxy.js";
import { fakeUpstream, type UpstreamReply } from "./fake-upstream.js";

export const PROXY_KEY = "key-id-1234:super-secret-value-5678";
export const QUEUE = "https://queue.fal.run";
export const T2I = "fal-ai/flux-pro/kontext/text-to-image";
export const VALID_INPUT = { prompt: "a tiger", num_images: 1 };

/** The site the test proxy serves, and its mount. */
export const APP = "https://app.example.com";
export const PROXY = `${APP}/api/fal/proxy`;

/** A proxy for app.example.com in front of a recording fake upstream; refusals are not logged. */
export function testProxy(options: Partial<KontextProxyOptions> = {}, reply?: UpstreamReply) {
  const upstream = fakeUpstream(reply);
  const proxy = createKontextProxy({
    allowedHosts: ["app.example.com"],
    credentials: PROXY_KEY,
    fetch: upstream.fetch,
    onRefused: () => {},
    ...options,
  });
  return { proxy, calls: upstream.calls };
}

/** A request as a page of `origin` sends it with fetch (same-origin in the browser's eyes). */
export function pageRequest(
  url: string,
  origin: string,
  init: RequestInit & { target?: string; extraHeaders?: Record<string, string> } = {},
): Request {
  const headers = new Headers(init.headers);
  headers.set("origin", origin);
  headers.set("sec-fetch-site", "same-origin");
  if (init.target) headers.set("x-fal-target-url", init.target);
  for (const [name, value] of Object.entries(init.extraHeaders ?? {})) headers.set(name, value);
  return new Request(url, { ...init, headers });
}

/** A JSON submit through fal's proxy protocol. */
export function submitRequest(proxyUrl: string, origin: string, body: unknown, target = `${QUEUE}/${T2I}`): Request {
  return pageRequest(proxyUrl, origin, {
    method: "POST",
    target,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Everything a browser could read from an answer: status line, headers and body. */
export async function readAll(response: Response): Promise<string> {
  const lines = [`${response.status}`];
  response.headers.forEach((value, name) => {
    lines.push(`${name}: ${value}`);
  });
  return `${lines.join("\n")}\n\n${response.body ? await response.text() : ""}`;
}

/** Every form of the key a leak could take: raw, each half, base64 of the header value, URL-encoded. */
export function keyForms(key: string): string[] {
  const base64 = (text: string) => btoa(text);
  return [key, ...key.split(":"), base64(`Key ${key}`), base64(key), encodeURIComponent(key)];
}

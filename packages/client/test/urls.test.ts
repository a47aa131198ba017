import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type EndpointId, endpoints } from "@kontext-sdk/schema";
import { describe, expect, it } from "vitest";
import { appPath, queueUrls } from "../src/index.js";
import { client, falQueue, json, output } from "./helpers.js";

const ids = Object.keys(endpoints) as EndpointId[];
const spec = JSON.parse(readFileSync(createRequire(import.meta.url).resolve("@kontext-sdk/schema/openapi.json"), "utf8"));
const inputs: Record<string, object> = {
  "text-to-image": { prompt: "a fox" },
  edit: { prompt: "a fox", image_url: "https://example.com/a.png" },
  multi: { prompt: "a fox", image_urls: ["https://example.com/a.png", "https://example.com/b.png"] },
};

describe("URL derivation", () => {
  it("covers all six endpoints", () => expect(ids).toHaveLength(6));

  it.each(ids)("%s: app path equals the registry's, and every queue path is in the spec", (id) => {
    expect(appPath(id)).toBe(endpoints[id].appPath);
    const u = queueUrls(id, "abc");
    expect(u).toEqual({
      submit: `/${id}`,
      status: "/fal-ai/flux-pro/requests/abc/status",
      stream: "/fal-ai/flux-pro/requests/abc/status/stream",
      result: "/fal-ai/flux-pro/requests/abc",
      cancel: "/fal-ai/flux-pro/requests/abc/cancel",
    });
    const specPath = (p: string) => p.replace("abc", "{request_id}");
    expect(spec.paths[u.submit]?.post).toBeDefined();
    expect(spec.paths[specPath(u.status)]?.get).toBeDefined();
    expect(spec.paths[specPath(u.stream)]?.get).toBeDefined();
    expect(spec.paths[specPath(u.result)]?.get).toBeDefined();
    expect(spec.paths[specPath(u.cancel)]?.put).toBeDefined();
  });

  it.each(ids)("%s: the client calls exactly these URLs", async (id) => {
    const q = falQueue({ id: "r1" });
    const c = client(q.fetch, { syncBaseUrl: "https://fal.run" });
    const input = inputs[endpoints[id].kind] as never;
    await c.submit(id, input);
    await c.status(id, "r1", { logs: true });
    for await (const _ of c.streamStatus(id, "r1")) {
    }
    await c.result(id, "r1");
    await c.cancel(id, "r1");
    const run = falQueue({ override: () => json(output) });
    await client(run.fetch).run(id, input);
    expect(q.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `POST https://queue.fal.run/${id}`,
      "GET https://queue.fal.run/fal-ai/flux-pro/requests/r1/status?logs=1",
      "GET https://queue.fal.run/fal-ai/flux-pro/requests/r1/status/stream",
      "GET https://queue.fal.run/fal-ai/flux-pro/requests/r1",
      "PUT https://queue.fal.run/fal-ai/flux-pro/requests/r1/cancel",
    ]);
    expect(run.calls.map((c) => `${c.method} ${c.url}`)).toEqual([`POST https://fal.run/${id}`]);
  });

  it("keeps fal's three-segment namespaces and escapes request ids", () => {
    expect(appPath("workflows/me/my-flow/sub")).toBe("workflows/me/my-flow");
    expect(appPath("fal-ai/flux-pro")).toBe("fal-ai/flux-pro");
    expect(queueUrls("fal-ai/flux-pro/kontext", "a/b?c").result).toBe("/fal-ai/flux-pro/requests/a%2Fb%3Fc");
  });

  it("joins a base URL that carries a path prefix", async () => {
    const q = falQueue({ id: "r1" });
    const c = client(q.fetch, { baseUrl: "https://gw.example.com/v1/queue/" });
    await c.status("fal-ai/flux-pro/kontext/max", "r1");
    expect(q.calls[0]!.url).toBe("https://gw.example.com/v1/queue/fal-ai/flux-pro/requests/r1/status");
  });
});

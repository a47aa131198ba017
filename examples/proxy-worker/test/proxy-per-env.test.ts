import { afterEach, expect, it, vi } from "vitest";
import { MOUNT } from "../src/mount.js";
import worker, { type Env } from "../src/worker.js";

// The Worker module itself, called the way the runtime calls it (no workerd needed): one proxy per `env`,
// so the proxy's default refusal log warns once per reason, not once per request.
const T2I = "fal-ai/flux-pro/kontext/text-to-image";

/** A submit from another origin: refused (403) before anything reaches upstream or the key. */
const foreignSubmit = () =>
  new Request(`http://127.0.0.1:8787${MOUNT}/${T2I}`, {
    method: "POST",
    headers: { origin: "https://evil.example", "content-type": "application/json" },
    body: JSON.stringify({ prompt: "not yours" }),
  });

afterEach(() => {
  vi.restoreAllMocks();
});

it("keeps one proxy per env: a refusal reason is logged once across requests", async () => {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  const env: Env = { FAL_KEY: "worker-secret-key", KONTEXT_PROXY_TARGET: "http://127.0.0.1:9" };
  for (let round = 0; round < 3; round++) expect((await worker.fetch(foreignSubmit(), env)).status).toBe(403);
  expect(warn).toHaveBeenCalledTimes(1);
  // Another env (another isolate's bindings) gets a proxy of its own.
  const other: Env = { FAL_KEY: "other-secret-key", KONTEXT_PROXY_TARGET: "http://127.0.0.1:9" };
  expect((await worker.fetch(foreignSubmit(), other)).status).toBe(403);
  expect(warn).toHaveBeenCalledTimes(2);
  expect(warn.mock.calls.join("\n")).not.toContain("secret-key");
});

/**
 * The errors the proxy hands to `onError` are redacted of the key (every form, message, stack, cause,
 * body), wherever they come from: the upstream `fetch`, a body that breaks off, the operator's own hooks.
 * Operators ship `onError` to log services, so a fetch error quoting the Authorization header is a leak.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { type KontextProxyOptions, KontextProxyReportedError } from "../../src/proxy.js";
import { keyForms, PROXY, PROXY_KEY, QUEUE, submitRequest, T2I, testProxy, VALID_INPUT } from "../support/proxy-requests.js";

const APP = "https://app.example.com";
const LEAKS = `raw ${PROXY_KEY} | b64 ${btoa(`Key ${PROXY_KEY}`)} | url ${encodeURIComponent(PROXY_KEY)} | half ${PROXY_KEY.split(":")[1]}`;

/** Every way a log could print `error`: its fields, its cause chain, JSON and `util.inspect`. */
function everyRendering(error: unknown): string {
  const parts = [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error) ?? "", String(error)];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    parts.push(current.message, String(current.stack));
    current = current.cause;
  }
  if (current !== undefined) parts.push(String(current));
  return parts.join("\n");
}

function expectKeyFree(error: unknown) {
  const shown = everyRendering(error);
  for (const form of keyForms(PROXY_KEY)) expect(shown).not.toContain(form);
}

/** A proxy whose `onError` records what it was given. */
function reportingProxy(options: Partial<KontextProxyOptions>, reply?: Parameters<typeof testProxy>[1]) {
  const errors: unknown[] = [];
  const { proxy } = testProxy({ ...options, onError: (error) => errors.push(error) }, reply);
  return { proxy, errors };
}

const submit = () => submitRequest(PROXY, APP, VALID_INPUT, `${QUEUE}/${T2I}`);

describe("errors reported to onError carry no key", () => {
  it("an unreachable upstream: the fetch error and its cause are redacted, and still say what happened", async () => {
    const { proxy, errors } = reportingProxy({
      fetch: async () => {
        throw new TypeError(`fetch failed: ${LEAKS}`, { cause: new Error(`connect refused for Key ${PROXY_KEY}`) });
      },
    });
    const response = await proxy(submit());
    expect(response.status).toBe(502);
    expect(errors).toHaveLength(1);
    expectKeyFree(errors[0]);
    expect((errors[0] as Error).message).toContain("fetch failed");
    expect((errors[0] as Error).message).toContain("[redacted]");
    expect(((errors[0] as Error).cause as Error).message).toBe("connect refused for Key [redacted]");
  });

  it("a per-request key (credentials as a function) is redacted as well", async () => {
    const rotating = "rotating-id-9876:rotating-secret-5432";
    const { proxy, errors } = reportingProxy({
      credentials: async () => rotating,
      fetch: async () => {
        throw new TypeError(`fetch failed for Key ${rotating}`);
      },
    });
    expect((await proxy(submit())).status).toBe(502);
    expect(errors).toHaveLength(1);
    const shown = everyRendering(errors[0]);
    for (const form of keyForms(rotating)) expect(shown).not.toContain(form);
  });

  it("an upstream body that breaks off while it is read in full (answer() throws): 500, reported key-free", async () => {
    const { proxy, errors } = reportingProxy({}, () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.error(new Error(`socket closed mid-body; request had ${LEAKS}`));
        },
      });
      return new Response(body, { status: 500, headers: { "content-type": "application/json" } });
    });
    const response = await proxy(submit());
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain(PROXY_KEY);
    expect(errors).toHaveLength(1);
    expectKeyFree(errors[0]);
  });

  it("a throwing onSubmitted that quotes the key is reported key-free, and the answer still goes back", async () => {
    const { proxy, errors } = reportingProxy({
      onSubmitted: () => {
        throw new Error(`ownership store rejected ${LEAKS}`);
      },
    });
    expect((await proxy(submit())).status).toBe(200);
    expect(errors).toHaveLength(1);
    expectKeyFree(errors[0]);
  });

  it("a throwing authorize, before the key is resolved: a fixed key (string option) is still redacted", async () => {
    const { proxy, errors } = reportingProxy({
      authorize: () => {
        throw new Error(`session store down (${LEAKS})`);
      },
    });
    expect((await proxy(submit())).status).toBe(500);
    expect(errors).toHaveLength(1);
    expectKeyFree(errors[0]);
  });

  it("a thrown string is redacted", async () => {
    const { proxy, errors } = reportingProxy({
      fetch: async () => {
        throw `no route to host with ${LEAKS}`;
      },
    });
    expect((await proxy(submit())).status).toBe(502);
    expect(errors).toEqual([expect.stringContaining("no route to host")]);
    expectKeyFree(errors[0]);
  });

  it("an error whose message cannot be rewritten, or whose cause is a string, arrives as a redacted copy", async () => {
    const frozen = new TypeError(`fetch failed for Key ${PROXY_KEY}`);
    Object.defineProperty(frozen, "message", { value: frozen.message, writable: false });
    const stringCause = new Error("fetch failed", { cause: `header was Key ${PROXY_KEY}` });
    for (const thrown of [frozen, stringCause]) {
      const { proxy, errors } = reportingProxy({
        fetch: async () => {
          throw thrown;
        },
      });
      expect((await proxy(submit())).status).toBe(502);
      expect(errors).toHaveLength(1);
      expectKeyFree(errors[0]);
      expect(errors[0]).toBeInstanceOf(KontextProxyReportedError);
      expect((errors[0] as Error).message).toMatch(/^(TypeError|Error): fetch failed/);
    }
  });
});

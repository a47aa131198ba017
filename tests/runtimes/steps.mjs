// The job every runtime runs, against the mock servers that tests/runtimes/run.ts started (`pnpm test:runtimes`).
// Runtime-neutral on purpose: only fetch, WebCrypto, timers and the packages' public API, so the same
// steps run in Node, Bun, Deno, a workerd Worker and a browser page. Each step reports one result:
// { feature, status: "pass" | "fail" | "n/a", detail }.

export const FEATURES = [
  "submit",
  "stream",
  "result",
  "poll-fallback",
  "cancel",
  "validation",
  "webhook",
  "no-key-defaults",
  "proxy",
  "node-adapter",
];

export const T2I = "fal-ai/flux-pro/kontext/text-to-image";
/** The orchestrator breaks every status stream of this endpoint after one event, to force the poll fallback. */
export const STREAM_DROP_ENDPOINT = "fal-ai/flux-pro/kontext/max/text-to-image";

const PNG = [0x89, 0x50, 0x4e, 0x47];
const JPEG = [0xff, 0xd8, 0xff];

class StepFailure extends Error {}

function check(condition, message) {
  if (!condition) throw new StepFailure(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function describeError(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Runs `body` as one step; a thrown error is that step's failure, never the whole run's. */
async function step(report, feature, body) {
  try {
    const detail = await body();
    report({ feature, status: "pass", detail: detail ?? "" });
  } catch (error) {
    report({ feature, status: "fail", detail: describeError(error) });
  }
}

/** A fetch that remembers each call's method and path, to see what the client really did. */
function recordingFetch(calls, inner = fetch) {
  return (input, init) => {
    // Relative URLs (a browser's `proxyUrl: "/api/fal/proxy"`) resolve against the page.
    const url = new URL(
      typeof input === "string" || input instanceof URL ? input : input.url,
      globalThis.location?.href ?? "http://relative.invalid",
    );
    calls.push(`${init?.method ?? (input instanceof Request ? input.method : "GET")} ${url.pathname}`);
    return inner(input, init);
  };
}

/**
 * @param kx `{ client, webhooks, proxy }`: the built `@kontext-sdk/client`, `/webhooks` and `/proxy` modules
 * @param config `{ runtime, mockUrl, slowUrl, sinkUrl }`
 * @param report called once per step
 * @param extras `{ proxy?: () => Promise<string>, nodeAdapter?: () => Promise<string> }` runtime-specific steps,
 *   or `{ proxy: "not applicable: why" }`
 */
export async function runSteps(kx, config, report, extras = {}) {
  const base = {
    credentials: "runtime-test-key",
    baseUrl: config.mockUrl,
    syncBaseUrl: `${config.mockUrl}/sync`,
    // A browser page holds a test key for a loopback mock: allowed on purpose here.
    dangerouslyAllowBrowser: true,
    retry: { maxRetries: 2, baseDelay: 100, maxDelay: 1_000 },
  };
  const context = { kx, config, base, kontext: kx.client.createKontextClient(base), prompt: `a red fox on ${config.runtime}` };
  // The stream and result steps follow the submitted job; when submit fails they fail with that reason.
  let requestId;
  await step(report, "submit", async () => {
    const submitted = await submitStep(context);
    requestId = submitted.requestId;
    return `request ${requestId}`;
  });
  await step(report, "stream", () => streamStep(context, requestId));
  await step(report, "result", () => resultStep(context, requestId));
  await step(report, "poll-fallback", () => pollFallbackStep(context));
  await step(report, "cancel", () => cancelStep(context));
  await step(report, "validation", () => validationStep(context));
  await step(report, "webhook", () => webhookStep(context));
  await step(report, "no-key-defaults", () => noKeyDefaultsStep(context));
  for (const [feature, extra] of [
    ["proxy", extras.proxy],
    ["node-adapter", extras.nodeAdapter],
  ]) {
    if (typeof extra === "function") await step(report, feature, extra);
    else report({ feature, status: "n/a", detail: extra ?? "not applicable here" });
  }
}

async function submitStep({ kontext, prompt }) {
  const submitted = await kontext.submit(T2I, { prompt });
  check(typeof submitted.requestId === "string" && submitted.requestId.length > 0, "no request id");
  check(submitted.status === "IN_QUEUE", `status ${submitted.status}`);
  return submitted;
}

async function streamStep({ kontext }, requestId) {
  check(requestId, "no job (submit failed)");
  const seen = [];
  for await (const status of kontext.streamStatus(T2I, requestId, { logs: true })) seen.push(status.status);
  check(seen.at(-1) === "COMPLETED", `stream ended on ${seen.at(-1)}`);
  check(seen.length >= 2, `only ${seen.length} event(s)`);
  return `${seen.length} events: ${[...new Set(seen)].join(" → ")}`;
}

async function resultStep({ kontext }, requestId) {
  check(requestId, "no job (submit failed)");
  const { data } = await kontext.result(T2I, requestId);
  check(Array.isArray(data.images) && data.images.length >= 1, "no images");
  const image = await fetch(data.images[0].url);
  check(image.ok, `image answered ${image.status}`);
  const bytes = new Uint8Array(await image.arrayBuffer());
  const isImage = PNG.every((b, i) => bytes[i] === b) || JPEG.every((b, i) => bytes[i] === b);
  check(isImage, "the image is neither PNG nor JPEG");
  return `${data.images.length} image(s), first ${bytes.length} bytes`;
}

async function pollFallbackStep({ kx, base, prompt }) {
  const calls = [];
  const recorded = kx.client.createKontextClient({ ...base, fetch: recordingFetch(calls) });
  const { data } = await recorded.subscribe(STREAM_DROP_ENDPOINT, { prompt }, { mode: "stream" });
  check(data.images.length >= 1, "no images");
  const streamAt = calls.findIndex((c) => c.endsWith("/status/stream"));
  check(streamAt >= 0, "the stream was never opened");
  const polls = calls.slice(streamAt + 1).filter((c) => c.startsWith("GET ") && c.endsWith("/status"));
  check(polls.length >= 1, `no status poll after the stream broke (${calls.join(", ")})`);
  return `stream broke, then ${polls.length} poll(s) to COMPLETED`;
}

async function cancelStep({ kx, config, base, prompt }) {
  // The slow mock keeps jobs queued for minutes, so this one is surely still IN_QUEUE.
  const slow = kx.client.createKontextClient({ ...base, baseUrl: config.slowUrl, syncBaseUrl: `${config.slowUrl}/sync` });
  const submitted = await slow.submit(T2I, { prompt });
  const cancelled = await slow.cancel(T2I, submitted.requestId);
  check(cancelled.status === "CANCELLATION_REQUESTED", `cancel answered ${cancelled.status}`);
  const after = await slow.status(T2I, submitted.requestId).then(
    (status) => `still there (${status.status})`,
    (error) => error,
  );
  check(after instanceof kx.client.KontextApiError && after.status === 404, `status after cancel: ${describeError(after)}`);
  return "CANCELLATION_REQUESTED, then 404";
}

async function validationStep({ kx, base, kontext, prompt }) {
  const { createKontextClient, KontextValidationError } = kx.client;
  const invalid = { prompt, num_images: 9 };
  // 1. Checked before sending: nothing reaches the server.
  const local = await kontext.submit(T2I, invalid).then(
    () => undefined,
    (error) => error,
  );
  check(local instanceof KontextValidationError, `local check: ${describeError(local)}`);
  check(local.status === undefined, "the local check claims an HTTP status");
  check(
    local.issues.some((issue) => issue.field === "num_images"),
    "no issue names num_images",
  );
  // 2. The server's 422: at submit (strict gateways) or at the result (fal), both typed the same.
  const unchecked = createKontextClient({ ...base, validate: false });
  let remote;
  let where = "submit";
  try {
    const submitted = await unchecked.submit(T2I, invalid);
    where = "result";
    await waitForCompletion(unchecked, submitted.requestId);
    await unchecked.result(T2I, submitted.requestId);
  } catch (error) {
    remote = error;
  }
  check(remote instanceof KontextValidationError, `server 422 (${where}): ${describeError(remote)}`);
  check(remote.status === 422, `status ${remote.status}`);
  check(
    remote.issues.some((issue) => issue.field === "num_images"),
    `issues: ${JSON.stringify(remote.issues)}`,
  );
  return `local issue, then the server's 422 at ${where}`;
}

async function webhookStep({ kx, config, kontext, prompt }) {
  const { verifyWebhook, parseWebhook } = kx.webhooks;
  const submitted = await kontext.submit(T2I, { prompt }, { webhookUrl: `${config.sinkUrl}/hook` });
  const delivery = await waitForDelivery(config.sinkUrl, submitted.requestId);
  const jwksUrl = `${config.mockUrl}/.well-known/jwks.json`;
  const verified = await verifyWebhook({ headers: delivery.headers, body: delivery.body }, { jwksUrl });
  check(verified.ok, `refused: ${verified.reason} ${verified.message}`);
  check(verified.requestId === submitted.requestId, `signed for ${verified.requestId}`);
  const parsed = parseWebhook(verified.body);
  check(parsed.ok && parsed.payload.images.length >= 1, "the payload has no images");
  const tampered = await verifyWebhook({ headers: delivery.headers, body: `${delivery.body} ` }, { jwksUrl });
  check(!tampered.ok && tampered.reason === "signature_mismatch", `a tampered body gave ${tampered.reason}`);
  return "Ed25519 signature verified with the mock's JWKS; a tampered body refused";
}

/**
 * No key anywhere: the client's and the proxy's FAL_KEY lookups must fail politely on every runtime
 * (no `process` in Workers and browsers; a refused env read under Deno's permissions).
 */
async function noKeyDefaultsStep({ kx, config, prompt }) {
  let client;
  try {
    kx.client.createKontextClient({ baseUrl: config.mockUrl });
    client = "createKontextClient() constructed";
  } catch (error) {
    check(
      kx.client.isKontextError(error),
      `createKontextClient() without credentials threw ${describeError(error)}, not a KontextError`,
    );
    client = `createKontextClient() threw a ${error.name}`;
  }
  const keyless = kx.proxy.createKontextProxy({
    target: config.mockUrl,
    basePath: "/api/fal/proxy",
    authorize: () => true,
    onRefused: () => {},
    onError: () => {},
  });
  const answer = await keyless(
    new Request(`http://localhost/api/fal/proxy/${T2I}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt }),
    }),
  );
  const body = await answer.json().catch(() => ({}));
  check(
    answer.status === 500 && body.error_type === "proxy_misconfigured",
    `${client}; a proxy without a key answered ${answer.status} ${JSON.stringify(body).slice(0, 160)}, not 500 proxy_misconfigured`,
  );
  return `${client}; a keyless proxy answers 500 proxy_misconfigured`;
}

/** Polls (the stream has its own step) until the job is COMPLETED. */
async function waitForCompletion(kontext, requestId) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const status = await kontext.status(T2I, requestId);
    if (status.status === "COMPLETED") return;
    await sleep(100);
  }
  throw new StepFailure(`${requestId} did not complete within 30 s`);
}

/** The orchestrator's sink stores each delivery; it lands a moment after the job completes. */
async function waitForDelivery(sinkUrl, requestId) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${sinkUrl}/deliveries/${requestId}`);
    if (response.ok) return response.json();
    await response.body?.cancel();
    await sleep(100);
  }
  throw new StepFailure(`no webhook delivery for ${requestId} within 30 s`);
}

/**
 * A job through a proxy: `proxyFetch` reaches a `createKontextProxy` handler (in-process, over HTTP, or a
 * Worker binding) mounted at `proxyUrl`; `headers` are what this caller needs to be let in.
 */
export async function proxyJob(kx, { proxyUrl, fetch: proxyFetch, headers, prompt }) {
  const { createKontextClient } = kx.client;
  const calls = [];
  const viaProxy = createKontextClient({
    proxyUrl,
    headers,
    fetch: recordingFetch(calls, proxyFetch),
    dangerouslyAllowBrowser: true,
    retry: { maxRetries: 2, baseDelay: 100, maxDelay: 1_000 },
  });
  const { data, requestId } = await viaProxy.subscribe(T2I, { prompt }, { mode: "stream" });
  check(data.images.length >= 1, "no images through the proxy");
  const cancelled = await viaProxy.cancel(T2I, requestId);
  check(cancelled.status === "ALREADY_COMPLETED", `cancel through the proxy answered ${cancelled.status}`);
  return { requestId, calls: calls.length };
}

/** A call from another site must be refused by the proxy's default policy. */
export async function foreignCallRefused(proxyFetch, url) {
  const response = await proxyFetch(
    new Request(`${url}/${T2I}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ prompt: "not yours" }),
    }),
  );
  const body = await response.text();
  check(response.status === 403, `a foreign origin got ${response.status}: ${body.slice(0, 120)}`);
  return body;
}

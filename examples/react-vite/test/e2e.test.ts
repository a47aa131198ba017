/**
 * The example app in a real browser: Vite's dev server (with the proxy in front of the in-process mock server)
 * and Debian's Chromium driven by playwright-core. Run: pnpm --filter @kontext-sdk/example-react-vite test:e2e
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_UPLOAD_THRESHOLD } from "@kontext-sdk/client";
import { renderImage } from "@kontext-sdk/mocks";
import { type Browser, chromium, type Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const artifacts = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

interface MockRequest {
  method: string;
  path: string;
  operation?: string;
  bodyBytes: number;
  /** Only for small bodies (see the plugin in vite.config.ts). */
  body?: unknown;
}

interface MockState {
  url: string;
  requests: MockRequest[];
  uploads: { fileUrl: string; contentType: string; size: number }[];
  jobs: { requestId: string; endpoint: string; state: string; cancelled: boolean }[];
}

let server: ViteDevServer;
let browser: Browser;
let base: string;
// Each test gets its own page (a fresh browser context: no cache, no storage) and a reset mock.
let page: Page;
let pageErrors: string[] = [];

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const mockState = async (): Promise<MockState> => (await fetch(`${base}/__kontext-mock/state`)).json() as Promise<MockState>;
/** The mock's POSTs by method and path only. */
const postsSeen = async () =>
  (await mockState()).requests.filter((r) => r.method === "POST").map(({ method, path }) => ({ method, path }));
const post = (path: string, body?: unknown) =>
  fetch(`${base}${path}`, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const statusText = () => page.getByTestId("status").textContent();
const waitForStatus = (status: string, timeout = 20_000) =>
  page.waitForFunction((s) => document.querySelector('[data-testid="status"]')?.textContent === s, status, { timeout });
const resultImagesLoaded = (selector: string, count: number) =>
  page.waitForFunction(
    ([css, n]) => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>(css as string)];
      return imgs.length === n && imgs.every((img) => img.complete && img.naturalWidth > 0);
    },
    [selector, count] as const,
  );

/** Chooses an edit of the file at `path` with the prompt "make it snow"; pressing Generate is left to the test. */
async function fillEdit(path: string): Promise<void> {
  await page.locator('input[name="kind"][value="edit"]').check();
  await page.getByLabel("Image to edit").setInputFiles(path);
  await page.getByLabel("Prompt").fill("make it snow");
}

/**
 * A real PNG of about 3.6 MB (1200×1000, stored uncompressed), well above the client's 1 MiB upload threshold,
 * written to its own temp directory as a user's photo would sit on disk. `remove` deletes the directory.
 */
function largePhoto(): { path: string; size: number; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "kontext-e2e-"));
  const path = join(dir, "big-photo.png");
  const bytes = renderImage("png", 1200, 1000, 11);
  writeFileSync(path, bytes);
  return { path, size: bytes.byteLength, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Records every value the upload progress bar shows, from now on, in `window.progressSeen` (read with `progressSeen`). */
const watchProgress = () =>
  page.evaluate(() => {
    const seen: { value: number; max: number; label: string }[] = [];
    (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
    const record = () => {
      const bar = document.querySelector<HTMLProgressElement>("progress#upload-progress");
      const last = seen.at(-1);
      if (bar && (last?.value !== bar.value || last?.max !== bar.max))
        seen.push({ value: bar.value, max: bar.max, label: bar.labels?.[0]?.textContent ?? "" });
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  });
const progressSeen = () =>
  page.evaluate(() => (window as unknown as { progressSeen: { value: number; max: number; label: string }[] }).progressSeen);

/** Console errors other than the browser's own line for an HTTP error answer (expected in the error tests). */
const unexpectedErrors = () =>
  pageErrors.filter((text) => !/Failed to load resource: the server responded with a status of/.test(text));

beforeAll(async () => {
  const port = await freePort();
  server = await createServer({
    root,
    configFile: `${root}vite.config.ts`,
    // No file watching or HMR: a rebuilt workspace package must not reload the page mid-test.
    server: { host: "127.0.0.1", port, strictPort: true, hmr: false, watch: null },
    logLevel: "warn",
    clearScreen: false,
  });
  await server.listen();
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  // A cold start: Vite transforms the app on the first request, which can take a while on a loaded
  // machine. Done once here so that no test's time limit pays for it.
  const warm = await browser.newPage();
  await warm.goto(base);
  await warm.getByLabel("Prompt").waitFor({ timeout: 60_000 });
  await warm.close();
});

beforeEach(async () => {
  expect((await post("/__kontext-mock/reset")).status).toBe(204);
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.goto(base);
  await page.getByLabel("Prompt").waitFor();
});

afterEach(async () => {
  await page?.context().close();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("examples/react-vite in Chromium", () => {
  it("generates: the progress moves through the queue and every result image loads", async () => {
    await page.getByLabel("Prompt").fill("a red fox reading a newspaper in a snowy park");
    await page.locator('select[name="num_images"]').selectOption("2");
    await page.locator('select[name="aspect_ratio"]').selectOption("16:9");
    await page.getByRole("button", { name: "Generate" }).click();

    await waitForStatus("IN_QUEUE");
    expect(await page.getByTestId("queue-position").textContent()).toMatch(/^\d+$/);
    await waitForStatus("IN_PROGRESS");
    await page.waitForFunction(() => document.querySelector('[data-testid="latest-log"]')?.textContent !== "–");
    await waitForStatus("COMPLETED");
    expect(await page.getByTestId("history").locator("li").allTextContents()).toEqual([
      "submitting",
      "IN_QUEUE",
      "IN_PROGRESS",
      "COMPLETED",
    ]);

    const images = page.getByRole("region", { name: "Results" }).getByRole("img");
    expect(await images.count()).toBe(2);
    await resultImagesLoaded('section[aria-label="Results"] img', 2);
    const widths = await images.evaluateAll((els) => els.map((el) => (el as HTMLImageElement).naturalWidth));
    expect(widths.every((w) => w > 0)).toBe(true);

    // The page only ever called the proxy; the mock saw exactly one submit, for the chosen endpoint.
    const requestId = await page.getByTestId("request-id").textContent();
    const state = await mockState();
    expect(await postsSeen()).toEqual([{ method: "POST", path: "/fal-ai/flux-pro/kontext/text-to-image" }]);
    expect(state.jobs.find((j) => j.requestId === requestId)).toMatchObject({ state: "COMPLETED", cancelled: false });
    expect(unexpectedErrors()).toEqual([]);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}e2e.png`, fullPage: true });
  });

  it("edits an uploaded image", async () => {
    await page.locator('input[name="kind"][value="edit"]').check();
    const png = Buffer.from(renderImage("png", 48, 32, 7));
    await page.getByLabel("Image to edit").setInputFiles({ name: "input.png", mimeType: "image/png", buffer: png });
    await page.getByLabel("Prompt").fill("make it snow");
    await page.locator('select[name="num_images"]').selectOption("1");
    await page.getByRole("button", { name: "Generate" }).click();
    await waitForStatus("COMPLETED");
    await resultImagesLoaded('section[aria-label="Results"] img', 1);
    expect(await postsSeen()).toEqual([{ method: "POST", path: "/fal-ai/flux-pro/kontext/max" }]);
    // A small file goes inline: no upload, and no progress bar.
    expect((await mockState()).uploads).toEqual([]);
    expect(await page.getByRole("progressbar").count()).toBe(0);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("uploads a large image with a progress bar, then submits its short URL", async () => {
    const photo = largePhoto();
    try {
      expect(photo.size).toBeGreaterThan(3 * DEFAULT_UPLOAD_THRESHOLD);
      await fillEdit(photo.path);
      await page.locator('select[name="num_images"]').selectOption("1");
      await watchProgress();
      await page.getByRole("button", { name: "Generate" }).click();

      // The bar, named by its label, goes from nothing sent to every byte sent.
      const bar = page.getByRole("progressbar", { name: /big-photo\.png/ });
      await bar.waitFor();
      await page.waitForFunction(() => {
        const done = document.querySelector<HTMLProgressElement>("progress#upload-progress");
        return done !== null && done.max > 1 && done.value === done.max;
      });
      expect(await bar.getAttribute("max")).toBe(String(photo.size));
      expect(await page.locator('label[for="upload-progress"]').textContent()).toMatch(
        /^Uploaded big-photo\.png \(3\.6 of 3\.6 MB\)$/,
      );
      const seen = await progressSeen();
      expect(seen[0]).toMatchObject({ value: 0, max: photo.size });
      expect(seen[0]?.label).toMatch(/^Uploading big-photo\.png/);
      expect(seen.at(-1)).toMatchObject({ value: photo.size, max: photo.size });

      await waitForStatus("COMPLETED");
      await resultImagesLoaded('section[aria-label="Results"] img', 1);

      // At the mock: the initiate (through the proxy), the PUT of the bytes (straight from the browser), then
      // a submit of a few hundred bytes whose image_url is the stored file's URL, not a 5 MB data URI.
      const state = await mockState();
      const upload = state.requests.filter((r) => r.operation === "upload");
      expect(upload.map(({ method, path }) => ({ method, path }))).toEqual([
        { method: "POST", path: "/storage/upload/initiate" },
        { method: "PUT", path: expect.stringMatching(/^\/storage\/uploads\/[0-9a-f]{32}$/) },
      ]);
      expect(state.uploads).toEqual([{ fileUrl: expect.any(String), contentType: "image/png", size: photo.size }]);
      const submits = state.requests.filter((r) => r.operation === "submit");
      expect(submits.map(({ method, path }) => ({ method, path }))).toEqual([
        { method: "POST", path: "/fal-ai/flux-pro/kontext/max" },
      ]);
      expect(submits[0]!.bodyBytes).toBeLessThan(2048);
      const fileUrl = `${state.url}${state.uploads[0]!.fileUrl}`;
      expect(submits[0]!.body).toMatchObject({ prompt: "make it snow", image_url: fileUrl });
      // The mock serves the stored bytes at that URL, every one of them.
      const served = await fetch(fileUrl);
      expect(served.status).toBe(200);
      expect((await served.arrayBuffer()).byteLength).toBe(photo.size);
      expect(state.requests.indexOf(submits[0]!)).toBeGreaterThan(state.requests.indexOf(upload[1]!));
      expect(unexpectedErrors()).toEqual([]);
    } finally {
      photo.remove();
    }
  });

  it("a refused upload shows its error like any other, and nothing is submitted", async () => {
    // The initiate passes; the PUT of the bytes to the signed URL is refused (403 is not retried).
    expect((await post("/__kontext-mock/fault", { kind: "status", status: 403, operation: "upload", skip: 1 })).status).toBe(204);
    const photo = largePhoto();
    try {
      await fillEdit(photo.path);
      await page.getByRole("button", { name: "Generate" }).click();
      const error = page.getByTestId("error");
      await error.waitFor();
      expect(await error.textContent()).toMatch(/^KontextApiError: PUT upload failed with HTTP 403/);
      // The bar is gone, the form usable again, and the mock saw no submit.
      expect(await page.getByRole("progressbar").count()).toBe(0);
      expect(await page.getByRole("button", { name: "Generate" }).isEnabled()).toBe(true);
      const state = await mockState();
      expect(state.requests.filter((r) => r.operation === "submit")).toEqual([]);
      expect(state.requests.filter((r) => r.operation === "upload").map((r) => r.method)).toEqual(["POST", "PUT"]);
      expect(state.uploads).toEqual([]);
    } finally {
      photo.remove();
    }
  });

  it("cancels an upload under way: the bar goes, no error, nothing submitted", async () => {
    // The PUT of the bytes answers only after 20 s, so the upload is still under way when Cancel is pressed.
    expect((await post("/__kontext-mock/fault", { kind: "latency", ms: 20_000, operation: "upload", skip: 1 })).status).toBe(204);
    const photo = largePhoto();
    try {
      await fillEdit(photo.path);
      await page.getByRole("button", { name: "Generate" }).click();
      const bar = page.getByRole("progressbar", { name: /^Uploading big-photo\.png/ });
      await bar.waitFor();
      expect(await bar.getAttribute("aria-busy")).toBe("true");
      expect(await page.getByRole("button", { name: "Generate" }).isDisabled()).toBe(true);
      // Wait for the PUT to be under way at the mock before cancelling it.
      await expect
        .poll(async () => (await mockState()).requests.some((r) => r.method === "PUT" && r.operation === "upload"))
        .toBe(true);
      await page.getByRole("button", { name: "Cancel" }).click();

      await page.getByRole("progressbar").waitFor({ state: "detached" });
      expect(await page.getByTestId("error").count()).toBe(0);
      expect(await page.getByRole("button", { name: "Generate" }).isEnabled()).toBe(true);
      expect(await statusText()).toBe("idle");
      const state = await mockState();
      expect(state.requests.filter((r) => r.operation === "submit")).toEqual([]);
      expect(state.uploads).toEqual([]);
    } finally {
      photo.remove();
    }
  });

  it("combines several uploaded images", async () => {
    await page.locator('input[name="kind"][value="multi"]').check();
    await page.getByLabel("Images to combine").setInputFiles([
      { name: "a.png", mimeType: "image/png", buffer: Buffer.from(renderImage("png", 32, 32, 1)) },
      { name: "b.jpg", mimeType: "image/jpeg", buffer: Buffer.from(renderImage("jpeg", 40, 30, 2)) },
    ]);
    await expect.poll(() => page.locator(".thumbs img").count()).toBe(2);
    await page.getByLabel("Prompt").fill("the cat from the first picture on the sofa from the second");
    await page.locator('select[name="num_images"]').selectOption("1");
    await page.getByRole("button", { name: "Generate" }).click();
    await waitForStatus("COMPLETED");
    await resultImagesLoaded('section[aria-label="Results"] img', 1);
    expect(await postsSeen()).toEqual([{ method: "POST", path: "/fal-ai/flux-pro/kontext/max/multi" }]);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("starts a job and cancels it", async () => {
    await page.getByLabel("Prompt").fill("a lighthouse in a storm");
    await page.getByRole("button", { name: "Generate" }).click();
    await waitForStatus("IN_QUEUE");
    const requestId = await page.getByTestId("request-id").textContent();
    expect(requestId).toMatch(/\S/);
    await page.getByRole("button", { name: "Cancel" }).click();

    await waitForStatus("cancelled");
    expect(await page.getByRole("region", { name: "Results" }).count()).toBe(0);
    // The cancel reached the mock through the proxy, and the queued job is gone there.
    await expect
      .poll(async () =>
        (await mockState()).requests.some((r) => r.method === "PUT" && r.path.endsWith(`/requests/${requestId}/cancel`)),
      )
      .toBe(true);
    const job = (await mockState()).jobs.find((j) => j.requestId === requestId);
    expect(job === undefined || job.cancelled).toBe(true);
    expect(await statusText()).toBe("cancelled");
    expect(unexpectedErrors()).toEqual([]);

    await page.screenshot({ path: `${artifacts}e2e-cancelled.png`, fullPage: true });
  });

  it("resumes a request submitted elsewhere, by its id (useKontextRequest)", async () => {
    // Submitted straight to the mock, as another tab or a server would have done.
    const { url } = await mockState();
    const submitted = await fetch(`${url}/fal-ai/flux-pro/kontext/text-to-image`, {
      method: "POST",
      headers: { authorization: "Key mock-key", "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a paper boat", num_images: 2 }),
    });
    const { request_id: requestId } = (await submitted.json()) as { request_id: string };
    await page.getByLabel("Resume a request id").fill(requestId);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="resume-status"]')?.textContent === "COMPLETED", null, {
      timeout: 20_000,
    });
    await resultImagesLoaded('[data-testid="resume-results"] img', 2);
    // A fresh page has an empty cache: it followed the status, then asked for the result, through the proxy.
    const paths = (await mockState()).requests.filter((r) => r.method === "GET").map((r) => r.path);
    expect(paths.some((path) => path.startsWith(`/fal-ai/flux-pro/requests/${requestId}/status`))).toBe(true);
    expect(paths).toContain(`/fal-ai/flux-pro/requests/${requestId}`);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("resuming an unknown id shows the 404 and asks nothing after it", async () => {
    await page.getByLabel("Resume a request id").fill("no-such-request");
    await page.getByRole("button", { name: "Resume" }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="resume-status"]')?.textContent === "error");
    expect(await page.getByTestId("resume-error").textContent()).toContain("No request with this id is known (404)");
    const asked = () => mockState().then((state) => state.requests.filter((r) => r.path.includes("no-such-request")).length);
    const before = await asked();
    expect(before).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await asked()).toBe(before);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("shows fal's field error from the result (422) next to its field", async () => {
    // The model refuses the prompt: fal accepts the job, runs it, then answers 422 at the result.
    expect((await post("/__kontext-mock/fault", { kind: "fail-at-result", status: 422 })).status).toBe(204);
    await page.getByLabel("Prompt").fill("something the model refuses");
    await page.getByRole("button", { name: "Generate" }).click();
    await waitForStatus("error");
    const next = page.getByTestId("prompt-error");
    expect(await next.textContent()).toContain("The model could not process this input");
    // Next to the prompt: inside the prompt's own label, described by it.
    expect(await page.getByLabel("Prompt").getAttribute("aria-describedby")).toBe("prompt-error");
    expect(
      await page
        .locator("label.field", { has: page.getByTestId("prompt-error") })
        .locator("textarea")
        .count(),
    ).toBe(1);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("a chosen file that is not an image is refused next to the file input, before anything is sent", async () => {
    await page.locator('input[name="kind"][value="edit"]').check();
    await page
      .getByLabel("Image to edit")
      .setInputFiles({ name: "notes.png", mimeType: "image/png", buffer: Buffer.from("not an image") });
    await page.getByLabel("Prompt").fill("make it snow");
    await page.getByRole("button", { name: "Generate" }).click();
    await page.getByTestId("images-error").waitFor();
    expect(await page.getByTestId("images-error").textContent()).toBe(
      "notes.png is not an image: choose an image file (PNG, JPEG, WebP, GIF or AVIF: its bytes or a Blob), or give an http(s) URL",
    );
    expect((await mockState()).requests).toEqual([]);
  });

  it("a bare file path as the image URL gets a message that says what to pass instead", async () => {
    await page.locator('input[name="kind"][value="edit"]').check();
    await page.getByLabel("…or an image URL").fill("photo.png");
    await page.getByLabel("Prompt").fill("make it snow");
    await page.getByRole("button", { name: "Generate" }).click();
    await waitForStatus("error");
    expect(await page.getByTestId("images-error").textContent()).toContain(
      '"photo.png" is not an image the service can read: choose an image file',
    );
    expect((await mockState()).requests).toEqual([]);
  });
});

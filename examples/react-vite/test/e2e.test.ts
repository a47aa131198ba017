/**
 * The example app in a real browser: Vite's dev server (with the proxy in front of the in-process mock server)
 * and Debian's Chromium driven by playwright-core. Run: pnpm --filter @kontext-sdk/example-react-vite test:e2e
 */
import { mkdirSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { fileURLToPath } from "node:url";
import { renderImage } from "@kontext-sdk/mocks";
import { type Browser, chromium, type Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const artifacts = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

interface MockState {
  requests: { method: string; path: string }[];
  jobs: { requestId: string; endpoint: string; state: string; cancelled: boolean }[];
}

let server: ViteDevServer;
let browser: Browser;
let page: Page;
let base: string;
const pageErrors: string[] = [];
let firstRequestId = "";

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const mockState = async (): Promise<MockState> => (await fetch(`${base}/__kontext-mock/state`)).json() as Promise<MockState>;
const statusText = () => page.getByTestId("status").textContent();
const waitForStatus = (status: string, timeout = 20_000) =>
  page.waitForFunction((s) => document.querySelector('[data-testid="status"]')?.textContent === s, status, { timeout });

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
  page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.goto(base);
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
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('section[aria-label="Results"] img')].every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );
    const widths = await images.evaluateAll((els) => els.map((el) => (el as HTMLImageElement).naturalWidth));
    expect(widths.every((w) => w > 0)).toBe(true);

    // The page only ever called the proxy; the mock saw exactly one submit, for the chosen endpoint.
    const requestId = await page.getByTestId("request-id").textContent();
    firstRequestId = requestId ?? "";
    const state = await mockState();
    expect(state.requests.filter((r) => r.method === "POST")).toEqual([
      { method: "POST", path: "/fal-ai/flux-pro/kontext/text-to-image" },
    ]);
    expect(state.jobs.find((j) => j.requestId === requestId)).toMatchObject({ state: "COMPLETED", cancelled: false });

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
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('section[aria-label="Results"] img')];
      return imgs.length === 1 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    });
    const state = await mockState();
    expect(state.requests.filter((r) => r.method === "POST").at(-1)).toEqual({
      method: "POST",
      path: "/fal-ai/flux-pro/kontext/max",
    });
  });

  it("combines several uploaded images", async () => {
    await page.locator('input[name="kind"][value="multi"]').check();
    await page.getByLabel("Images to combine").setInputFiles([
      { name: "a.png", mimeType: "image/png", buffer: Buffer.from(renderImage("png", 32, 32, 1)) },
      { name: "b.jpg", mimeType: "image/jpeg", buffer: Buffer.from(renderImage("jpeg", 40, 30, 2)) },
    ]);
    await expect.poll(() => page.locator(".thumbs img").count()).toBe(2);
    await page.getByLabel("Prompt").fill("the cat from the first picture on the sofa from the second");
    await page.getByRole("button", { name: "Generate" }).click();
    await waitForStatus("COMPLETED");
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('section[aria-label="Results"] img')];
      return imgs.length === 1 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    });
    const state = await mockState();
    expect(state.requests.filter((r) => r.method === "POST").at(-1)).toEqual({
      method: "POST",
      path: "/fal-ai/flux-pro/kontext/max/multi",
    });
  });

  it("starts a second job and cancels it", async () => {
    await page.locator('input[name="kind"][value="text-to-image"]').check();
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

    await page.screenshot({ path: `${artifacts}e2e-cancelled.png`, fullPage: true });
  });

  it("resumes the first request by id after a reload (useKontextRequest)", async () => {
    await page.reload();
    await page.getByLabel("Resume a request id").fill(firstRequestId);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="resume-status"]')?.textContent === "COMPLETED");
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid="resume-results"] img')];
      return imgs.length === 2 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    });
    // A fresh page has an empty cache: it asked for the status, then for the result, through the proxy.
    const paths = (await mockState()).requests.filter((r) => r.method === "GET").map((r) => r.path);
    expect(paths).toContain(`/fal-ai/flux-pro/requests/${firstRequestId}/status`);
    expect(paths).toContain(`/fal-ai/flux-pro/requests/${firstRequestId}`);
    expect(pageErrors).toEqual([]);
  });
});

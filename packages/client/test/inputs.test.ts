import { readdirSync, readFileSync } from "node:fs";
import { validateInput } from "@kontext-sdk/schema";
import { describe, expect, it } from "vitest";
import { createKontextClientLite, KontextValidationError, sniffImageType, toDataUri } from "../src/index.js";
import { prepareInput } from "../src/inputs.js";
import { client, falQueue } from "./helpers.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
const GIF = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]);
const WEBP = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50]);
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

describe("binary images become data URIs", () => {
  it.each([
    ["image/png", PNG],
    ["image/jpeg", JPEG],
    ["image/gif", GIF],
    ["image/webp", WEBP],
    ["image/avif", new Uint8Array([0, 0, 0, 0x1c, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66])],
    [undefined, new Uint8Array([1, 2, 3, 4])],
  ])("sniffs %s", (mime, bytes) => expect(sniffImageType(bytes)).toBe(mime));

  it("sends bytes of an unknown type as application/octet-stream", async () => {
    expect(await toDataUri(new Uint8Array([1, 2, 3, 4]))).toBe("data:application/octet-stream;base64,AQIDBA==");
  });

  it("accepts Uint8Array, ArrayBuffer, Blob and File; a declared type wins over sniffing", async () => {
    expect(await toDataUri(PNG)).toBe(`data:image/png;base64,${b64(PNG)}`);
    expect(await toDataUri(JPEG.buffer.slice(0))).toBe(`data:image/jpeg;base64,${b64(JPEG)}`);
    expect(await toDataUri(new Blob([WEBP]))).toBe(`data:image/webp;base64,${b64(WEBP)}`);
    expect(await toDataUri(new File([PNG], "a.png", { type: "image/x-custom" }))).toBe(`data:image/x-custom;base64,${b64(PNG)}`);
  });

  it("encodes large images correctly (chunked base64)", async () => {
    const big = new Uint8Array(300_001).map((_, i) => (i * 7) % 256);
    big.set(PNG);
    expect(await toDataUri(big)).toBe(`data:image/png;base64,${b64(big)}`);
  });

  it("replaces image_url and image_urls items, leaving strings and other fields alone", async () => {
    const out = await prepareInput({ prompt: "p", image_urls: ["https://x/a.png", GIF, "data:image/png;base64,AA=="], seed: 1 });
    expect(out).toEqual({
      prompt: "p",
      seed: 1,
      image_urls: ["https://x/a.png", `data:image/gif;base64,${b64(GIF)}`, "data:image/png;base64,AA=="],
    });
    const input = { prompt: "p", image_url: PNG };
    await prepareInput(input);
    expect(input.image_url).toBe(PNG);
  });

  it("sends them through submit, validated after conversion", async () => {
    const q = falQueue();
    await client(q.fetch).submit("fal-ai/flux-pro/kontext/max", {
      prompt: "p",
      image_url: new Blob([JPEG], { type: "image/jpeg" }),
    });
    await client(q.fetch).submit("fal-ai/flux-pro/kontext/max/multi", { prompt: "p", image_urls: [PNG, WEBP.buffer.slice(0)] });
    expect(JSON.parse(q.calls[0]!.body!).image_url).toBe(`data:image/jpeg;base64,${b64(JPEG)}`);
    expect(JSON.parse(q.calls[1]!.body!).image_urls).toEqual([
      `data:image/png;base64,${b64(PNG)}`,
      `data:image/webp;base64,${b64(WEBP)}`,
    ]);
  });
});

describe("validation switch", () => {
  const bad = { prompt: "p", num_images: 5 };

  it("validate: false sends what it is given", async () => {
    const q = falQueue();
    await client(q.fetch, { validate: false }).submit("fal-ai/flux-pro/kontext/text-to-image", bad);
    expect(q.calls).toHaveLength(1);
  });

  it("the lite client validates only with a validator function", async () => {
    const q = falQueue();
    await createKontextClientLite({ fetch: q.fetch, credentials: "k" }).submit("fal-ai/flux-pro/kontext/text-to-image", bad);
    expect(q.calls).toHaveLength(1);
    const checked = createKontextClientLite({ fetch: q.fetch, credentials: "k", validate: validateInput });
    await expect(checked.submit("fal-ai/flux-pro/kontext/text-to-image", bad)).rejects.toBeInstanceOf(KontextValidationError);
    await expect(checked.run("fal-ai/flux-pro/kontext/max", { prompt: "p" } as never)).rejects.toMatchObject({
      issues: [expect.objectContaining({ field: "image_url", rule: "required" })],
    });
    expect(q.calls).toHaveLength(1);
    expect("raw" in checked).toBe(false);
  });
});

describe("runtimes", () => {
  it("the source imports nothing Node-only and touches process.env only through globalThis", () => {
    const dir = new URL("../src/", import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(new URL(file, dir), "utf8");
      expect(text, file).not.toMatch(/from\s+["'](node:|fs|path|http|https|crypto|buffer|process)["']/);
      expect(text.replace(/globalThis as [^)]*\)\.process/g, ""), file).not.toMatch(/\bprocess\.|Buffer\./);
    }
  });
});

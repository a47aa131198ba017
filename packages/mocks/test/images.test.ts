import { inflateSync } from "node:zlib";
import jpeg from "jpeg-js";
import { afterAll, describe, expect, it } from "vitest";
import { dimensionsFor, encodeJpeg, encodePng, renderImage } from "../src/index.js";
import { KEY, setup, T2I, violations } from "./helpers.js";

afterAll(() => expect(violations).toEqual([]));

/** Reads a PNG's chunks, checks every CRC and inflates IDAT with zlib. */
function decodePng(bytes: Uint8Array) {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  let o = 8;
  while (o < bytes.length) {
    const length = view.getUint32(o);
    const type = String.fromCharCode(...bytes.subarray(o + 4, o + 8));
    const data = bytes.subarray(o + 8, o + 8 + length);
    const crc = view.getUint32(o + 8 + length);
    expect(crc).toBe(zlibCrc(bytes.subarray(o + 4, o + 8 + length)));
    chunks.push({ type, data });
    o += 12 + length;
  }
  expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
  const ihdr = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset, 13);
  const width = ihdr.getUint32(0);
  const height = ihdr.getUint32(4);
  expect([...chunks[0]!.data.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
  const raw = inflateSync(chunks[1]!.data);
  expect(raw.length).toBe(height * (1 + width * 3));
  return { width, height, raw };
}

// An independent CRC-32 (bitwise, no table) so the encoder's table is checked, not reused.
function zlibCrc(bytes: Uint8Array) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

const RATIOS: [string, number, number][] = [
  ["21:9", 64, 27],
  ["16:9", 64, 36],
  ["4:3", 64, 48],
  ["3:2", 64, 43],
  ["1:1", 64, 64],
  ["2:3", 43, 64],
  ["3:4", 48, 64],
  ["9:16", 36, 64],
  ["9:21", 27, 64],
];

describe("encoders", () => {
  it("PNG round-trips exact pixels through zlib", () => {
    const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const { width, height, raw } = decodePng(encodePng(5, 3, rgb));
    expect([width, height]).toEqual([5, 3]);
    for (let y = 0; y < 3; y++) {
      expect(raw[y * 16]).toBe(0);
      expect([...raw.subarray(y * 16 + 1, y * 16 + 16)]).toEqual([...rgb.subarray(y * 15, y * 15 + 15)]);
    }
  });

  it("PNG spans several stored deflate blocks when large", () => {
    const rgb = new Uint8Array(200 * 200 * 3).fill(7);
    const { width, raw } = decodePng(encodePng(200, 200, rgb));
    expect(width).toBe(200);
    expect(raw[1]).toBe(7);
  });

  it("JPEG decodes with jpeg-js to the tile colours", () => {
    const rgb = new Uint8Array(16 * 8 * 3);
    for (let i = 0; i < 16 * 8; i++) rgb.set(i % 16 < 8 ? [200, 30, 30] : [20, 40, 220], i * 3);
    const decoded = jpeg.decode(encodeJpeg(16, 8, rgb), { useTArray: true });
    expect([decoded.width, decoded.height]).toEqual([16, 8]);
    const px = (x: number) => [...decoded.data.subarray(x * 4, x * 4 + 3)];
    const close = (got: number[], want: number[]) => got.every((v, c) => Math.abs(v - want[c]!) <= 3);
    expect(close(px(2), [200, 30, 30]), String(px(2))).toBe(true);
    expect(close(px(12), [20, 40, 220]), String(px(12))).toBe(true);
  });

  it("JPEG stuffs 0xFF bytes in the entropy data", () => {
    for (let seed = 0; seed < 40; seed++) {
      const bytes = renderImage("jpeg", 64, 64, seed);
      expect(() => jpeg.decode(bytes, { useTArray: true })).not.toThrow();
    }
  });

  it.each(RATIOS)("%s is %i×%i", (ratio, w, h) => {
    expect(dimensionsFor(ratio)).toEqual({ width: w, height: h });
  });
});

describe("served images", () => {
  it.each(RATIOS)("PNG and JPEG in %s decode to the reported size", async (ratio, w, h) => {
    const t = setup();
    for (const format of ["png", "jpeg"] as const) {
      const r = await t.call(`https://fal.run/${T2I}`, {
        method: "POST",
        body: JSON.stringify({ prompt: "sizes", aspect_ratio: ratio, output_format: format }),
      });
      const out = await r.json();
      const image = out.images[0];
      expect(image).toMatchObject({ width: w, height: h, content_type: `image/${format}`, file_name: `0.${format}` });
      const file = await t.mock.fetch(image.url);
      expect(file.headers.get("content-type")).toBe(`image/${format}`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      expect(bytes.length).toBe(image.file_size);
      if (format === "png") expect(decodePng(bytes)).toMatchObject({ width: w, height: h });
      else expect(jpeg.decode(bytes, { useTArray: true })).toMatchObject({ width: w, height: h });
    }
  });

  it("edit endpoints without aspect_ratio answer square images", async () => {
    const t = setup();
    const r = await t.call("https://fal.run/fal-ai/flux-pro/kontext", {
      method: "POST",
      body: JSON.stringify({ prompt: "x", image_url: "https://example.org/a.png" }),
    });
    expect((await r.json()).images[0]).toMatchObject({ width: 64, height: 64 });
  });

  it("sync_mode answers decodable data URIs", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "inline", sync_mode: true, output_format: "png", num_images: 2 });
    t.clock.advance(1000);
    const out = await (await t.call(body.response_url)).json();
    expect(out.images).toHaveLength(2);
    for (const image of out.images) {
      expect(image.url).toMatch(/^data:image\/png;base64,/);
      const bytes = Uint8Array.from(Buffer.from(image.url.split(",")[1], "base64"));
      expect(bytes.length).toBe(image.file_size);
      expect(decodePng(bytes)).toMatchObject({ width: 64, height: 64 });
    }
  });

  it("answers 404 for a wrong extension or index", async () => {
    const t = setup();
    const out = await (await t.call(`https://fal.run/${T2I}`, { method: "POST", body: '{"prompt":"x"}' })).json();
    const url: string = out.images[0].url;
    expect((await t.mock.fetch(url.replace(".jpeg", ".jpg"))).status).toBe(200);
    expect((await t.mock.fetch(url.replace(".jpeg", ".png"))).status).toBe(404);
    expect((await t.mock.fetch(url.replace("/0.", "/3."))).status).toBe(404);
  });

  it("files of a job still running are not there yet", async () => {
    const t = setup();
    const { body } = await t.submit({ prompt: "x" });
    expect((await t.mock.fetch(`https://queue.fal.run/files/${body.request_id}/0.jpeg`, { headers: KEY })).status).toBe(404);
  });
});

describe("determinism", () => {
  const run = async (input: Record<string, unknown>) => {
    const t = setup();
    const out = await (await t.call(`https://fal.run/${T2I}`, { method: "POST", body: JSON.stringify(input) })).json();
    const files = await Promise.all(
      out.images.map(async (i: { url: string }) => Buffer.from(await (await t.mock.fetch(i.url)).arrayBuffer()).toString("hex")),
    );
    return { out: { ...out, images: out.images.map((i: any) => ({ ...i, url: undefined })) }, files };
  };

  it("same seed and prompt give the same output and bytes", async () => {
    const a = await run({ prompt: "a fox", seed: 42, num_images: 3 });
    const b = await run({ prompt: "a fox", seed: 42, num_images: 3 });
    expect(a).toEqual(b);
    expect(a.out.seed).toBe(42);
    expect(new Set(a.files).size).toBe(3);
  });

  it("a different seed or prompt changes the pictures", async () => {
    const a = await run({ prompt: "a fox", seed: 42 });
    expect((await run({ prompt: "a fox", seed: 43 })).files).not.toEqual(a.files);
    expect((await run({ prompt: "a cat", seed: 42 })).files).not.toEqual(a.files);
  });

  it("without a seed one is drawn from the prompt and reported", async () => {
    const a = await run({ prompt: "seedless" });
    const b = await run({ prompt: "seedless" });
    expect(a.out.seed).toBe(b.out.seed);
    expect(Number.isInteger(a.out.seed) && a.out.seed >= 0).toBe(true);
    expect((await run({ prompt: "other" })).out.seed).not.toBe(a.out.seed);
    expect(await run({ prompt: "seedless", seed: a.out.seed })).toEqual(a);
  });
});

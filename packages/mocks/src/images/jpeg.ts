/**
 * A minimal baseline JPEG encoder that works in every runtime (jpeg-js's encoder returns a
 * Node Buffer). Every 8×8 block is one flat colour, so only DC coefficients are coded and
 * the Huffman tables are tiny: the picture is a mosaic of 8 px tiles, which is all a mock
 * needs to be a real, decodable file.
 */

/** Writes bits most-significant first, stuffing a 0x00 after every 0xFF byte. */
class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private count = 0;
  write(value: number, length: number) {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.count === 8) this.flushByte();
    }
  }
  private flushByte() {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.count = 0;
  }
  finish(): number[] {
    // Pad the last byte with 1-bits, as the standard asks.
    while (this.count !== 0) this.write(1, 1);
    return this.bytes;
  }
}

// DC table: the 12 magnitude categories 0..11, each a 4-bit code 0000..1011.
const DC_BITS = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// AC table: end-of-block ("0") and zero-run-length ("10"); only EOB is ever written.
const AC_BITS = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0x00, 0xf0];
const EOB = { code: 0, length: 1 };

function segment(marker: number, body: number[]): number[] {
  const length = body.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...body];
}

function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a > 0) {
    n++;
    a >>= 1;
  }
  return n;
}

/** Encodes `rgb` (width × height × 3 bytes) as a baseline JPEG; each 8×8 block takes its centre colour. */
export function encodeJpeg(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  // JFIF APP0: version 1.1, no density units, 1:1, no thumbnail.
  out.push(...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  // One quantisation table of ones: DC values are coded exactly.
  out.push(...segment(0xdb, [0x00, ...new Array(64).fill(1)]));
  // SOF0: 8-bit, three components, no subsampling, all on table 0.
  out.push(...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]));
  out.push(...segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES, 0x10, ...AC_BITS, ...AC_VALUES]));
  out.push(...segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]));

  const bits = new BitWriter();
  const previous = [0, 0, 0];
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      const x = Math.min(width - 1, bx + 4);
      const y = Math.min(height - 1, by + 4);
      const i = (y * width + x) * 3;
      const r = rgb[i]!;
      const g = rgb[i + 1]!;
      const b = rgb[i + 2]!;
      const ycc = [
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
      ];
      for (let c = 0; c < 3; c++) {
        // A flat block's DC coefficient is 8 × (level − 128).
        const dc = Math.round(8 * (Math.min(255, Math.max(0, ycc[c]!)) - 128));
        const diff = dc - previous[c]!;
        previous[c] = dc;
        const size = category(diff);
        bits.write(size, 4);
        if (size > 0) bits.write(diff >= 0 ? diff : diff + (1 << size) - 1, size);
        bits.write(EOB.code, EOB.length);
      }
    }
  }
  out.push(...bits.finish(), 0xff, 0xd9);
  return Uint8Array.from(out);
}

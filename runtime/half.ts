/**
 * IEEE 754 half precision (binary16) conversions: the stored bits of a float16 element and
 * the value they hold. Node 20 has no Float16Array, so kiln stores halves as Uint16Array bits
 * and converts here; every conversion rounds through float32 first, as PyTorch's c10::Half
 * (built from a float) does, so the CPU and a WebGPU `f16(x)` of an f32 register agree.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The value of every half bit pattern, as float32 (each is exact there). A 256 KiB table
 * read per load is faster than decoding the exponent and mantissa in every kernel.
 */
const VALUES = /* @__PURE__ */ (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e === 0) t[h] = sign * m * 2 ** -24;
    else t[h] = e === 31 ? (m === 0 ? sign * Infinity : NaN) : sign * (1024 + m) * 2 ** (e - 25);
  }
  return t;
})();

/** The value of half bits `h` (0..65535). */
export function halfToFloat(h: number): number {
  return VALUES[h]!;
}

/**
 * The half bits nearest to `x` rounded to float32: round-to-nearest-even, subnormals kept,
 * ±Inf beyond the largest half (65504), NaN stays NaN (quiet, with the sign kept).
 */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff, m = b & 0x7fffff;
  if (e === 0xff) return sign | (m === 0 ? 0x7c00 : 0x7e00 | (m >>> 13));
  // Unbiased exponent 15 is the largest half exponent; from 16 on, the value is Inf.
  if (e >= 127 + 16) return sign | 0x7c00;
  if (e >= 127 - 14) {
    // Normal half: keep 10 mantissa bits, round the 13 dropped ones to nearest even. A carry
    // out of the mantissa bumps the exponent, up to Inf, which is the right result.
    const h = ((e - 127 + 15) << 10) | (m >>> 13);
    const rest = m & 0x1fff;
    return sign | (h + (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? 1 : 0));
  }
  // Subnormal half (or zero): the value in units of 2^-24, rounded to nearest even.
  if (e < 127 - 25) return sign;
  const full = m | 0x800000;
  const shift = 126 - e; // 14 - (e - 127) + 13 - 1 bits dropped from the 24-bit significand
  const h = full >>> shift;
  const rest = full & ((1 << shift) - 1), half = 1 << (shift - 1);
  return sign | (h + (rest > half || (rest === half && (h & 1) === 1) ? 1 : 0));
}

/** `x` rounded to the nearest half value (through float32), as a number. */
export function roundToHalf(x: number): number {
  return VALUES[floatToHalf(x)]!;
}

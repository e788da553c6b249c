/**
 * Counter-based random numbers for kiln: Philox4x32-10 (Salmon, Moraes, Dror, Shaw,
 * "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11; the Random123 library).
 *
 * Every backend (eager CPU, generated JS kernels, WGSL shaders) must produce bit-identical
 * numbers for the same seed and element, so this file is the specification the code
 * generators mirror. WGSL has only u32 arithmetic, with no 64-bit multiply and no mulhi, so
 * everything here is written with 32-bit operations only:
 *   - lo word of a*b: wrapping u32 multiply (`Math.imul(a, b) >>> 0` here, `a * b` in WGSL);
 *   - hi word of a*b: schoolbook product of 16-bit halves (see `mulhi32`), where every
 *     partial product and partial sum fits in u32, so a shader can copy it line for line.
 *
 * STREAM SCHEME (implement exactly this in every backend):
 *   seed  s: non-negative safe integer (< 2^53), split into key words
 *            k0 = s mod 2^32, k1 = floor(s / 2^32).
 *   element n of the seed's single stream (n = offset + i, a 64-bit index, < 2^53 in JS):
 *            block  b  = n >> 2                  (64-bit shift)
 *            ctr       = (b mod 2^32, floor(b / 2^32), 0, 0)   (c2 = c3 = 0, reserved)
 *            word   x  = philox4x32_10(ctr, (k0, k1))[n & 3]
 *            uniform   = f32(x >> 8) * 2^-24
 * i.e. the stream is the concatenation of the 4 output words of blocks 0, 1, 2, ... .
 *
 * Why this scheme:
 *   - fillUniform(seed, offset)[i] is element offset+i of one stream, so consuming a stream
 *     in pieces (a generator advancing its offset by the number of elements drawn) gives the
 *     same numbers as drawing them all at once, whatever the split points.
 *   - A JS loop uses all 4 words of each block (one philox call per 4 elements); a WGSL
 *     invocation that computes a single element runs one philox call and selects word n & 3
 *     (or one invocation can produce 4 consecutive elements). Both give the same values.
 *   - In WGSL, with offset passed as two u32 words (off_lo, off_hi) and element gid:
 *            n_lo = off_lo + gid;  n_hi = off_hi + select(0u, 1u, n_lo < off_lo);
 *            c0 = (n_lo >> 2u) | (n_hi << 30u);  c1 = n_hi >> 2u;  word = n_lo & 3u;
 *   - 24 high bits scaled by 2^-24 are exact in f32 (and f64), lie in [0, 1), never 1.0,
 *     and need no rounding-mode agreement between CPU and GPU.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

const TWO32 = 4294967296;
const TWO_NEG_24 = 5.9604644775390625e-8; // 2^-24, exact

/** High 32 bits of the 64-bit product of two uint32 values, using only 32-bit-safe steps. */
export function mulhi32(a: number, b: number): number {
  // Each 16x16 product is < 2^32 and `mid` is < 3 * 2^16, so every intermediate fits in u32;
  // the final sum is the true hi word (< 2^32), so no step relies on wraparound.
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Low 32 bits of the 64-bit product of two uint32 values. */
export function mullo32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

/** Philox4x32-10 of counter (c0..c3) under key (k0, k1), written into `out` without allocating. */
export function philox4x32Into(
  out: Uint32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): Uint32Array {
  // Values are carried as int32 (`| 0`, Math.imul) rather than uint32 (`>>> 0`): the bits are
  // the same as the u32 arithmetic of mulhi32/mullo32, but V8 keeps int32 in registers while
  // uint32 above 2^31 spills to doubles. mulhi32 is inlined by hand for the same reason.
  c0 |= 0;
  c1 |= 0;
  c2 |= 0;
  c3 |= 0;
  k0 |= 0;
  k1 |= 0;
  for (let r = 0; r < 10; r++) {
    // hi0:lo0 = M0 * c0
    let aL = c0 & 0xffff;
    let aH = c0 >>> 16;
    let ll = Math.imul(aL, 0x1f53);
    let lh = Math.imul(aL, 0xd251);
    let hl = Math.imul(aH, 0x1f53);
    let mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
    const hi0 = (Math.imul(aH, 0xd251) + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
    const lo0 = Math.imul(M0, c0);
    // hi1:lo1 = M1 * c2
    aL = c2 & 0xffff;
    aH = c2 >>> 16;
    ll = Math.imul(aL, 0x8d57);
    lh = Math.imul(aL, 0xcd9e);
    hl = Math.imul(aH, 0x8d57);
    mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
    const hi1 = (Math.imul(aH, 0xcd9e) + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
    const lo1 = Math.imul(M1, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    // Bumping after the last round too is harmless (the key is dead) and keeps the loop flat.
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  // Storing an int32 into a Uint32Array wraps it to the same uint32 bits.
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** Philox4x32-10 of counter (c0..c3) under key (k0, k1) as four uint32 numbers. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): [number, number, number, number] {
  const o = philox4x32Into(new Uint32Array(4), c0, c1, c2, c3, k0, k1);
  return [o[0]!, o[1]!, o[2]!, o[3]!];
}

function show(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** Throws a RangeError prefixed with `fnName` unless `seed` is a non-negative safe integer. */
export function validateSeed(seed: unknown, fnName = 'manualSeed'): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(
      `${fnName}: seed must be a non-negative safe integer (got ${show(seed)})`,
    );
  }
}

/** Splits a validated seed into the Philox key words [k0 = low 32 bits, k1 = high bits]. */
export function seedKey(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / TWO32)];
}

/** Maps a uint32 Philox output word to a uniform float in [0, 1), exact in float32. */
export function u32ToUniform(x: number): number {
  return (x >>> 8) * TWO_NEG_24;
}

const scratch = new Uint32Array(4);
// Per-round key words for fillUniform's inlined loop: [k0, k1] of round r at [2r, 2r + 1].
const roundKeys = new Int32Array(20);

/** Uniform [0, 1) value of element `index` of the stream for `seed` (single-element reference). */
export function uniformAt(seed: number, index: number): number {
  validateSeed(seed, 'uniformAt');
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(
      `uniformAt: index must be a non-negative safe integer (got ${show(index)})`,
    );
  }
  const block = Math.floor(index / 4);
  philox4x32Into(
    scratch,
    block >>> 0,
    Math.floor(block / TWO32),
    0,
    0,
    seed >>> 0,
    Math.floor(seed / TWO32),
  );
  return u32ToUniform(scratch[index % 4]!);
}

/** Fills out[i] with the uniform [0, 1) value of element offset+i of the stream for `seed`. */
export function fillUniform(out: Float32Array | Float64Array, seed: number, offset: number): void {
  validateSeed(seed, 'fillUniform');
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(
      `fillUniform: offset must be a non-negative safe integer (got ${show(offset)})`,
    );
  }
  const n = out.length;
  if (offset + n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `fillUniform: offset + length must not exceed Number.MAX_SAFE_INTEGER (got ${offset} + ${n})`,
    );
  }
  if (n === 0) return;
  const s0 = seed >>> 0;
  const s1 = Math.floor(seed / TWO32);
  const block = Math.floor(offset / 4);
  // The block counter is kept as two u32 words with an explicit carry, as a shader would.
  let b0 = block >>> 0;
  let b1 = Math.floor(block / TWO32);
  let i = 0;

  // Head: an offset that is not a multiple of 4 starts inside a block.
  const phase = offset % 4;
  if (phase !== 0) {
    philox4x32Into(scratch, b0, b1, 0, 0, s0, s1);
    for (let w = phase; w < 4 && i < n; w++, i++) out[i] = (scratch[w]! >>> 8) * TWO_NEG_24;
    b0 = (b0 + 1) >>> 0;
    if (b0 === 0) b1 = (b1 + 1) >>> 0;
  }

  // Body: whole blocks, Philox inlined with the key schedule precomputed, since a call per
  // block through philox4x32Into costs about 1.5x here.
  const ks = roundKeys;
  let k0 = s0 | 0;
  let k1 = s1 | 0;
  for (let r = 0; r < 20; r += 2) {
    ks[r] = k0;
    ks[r + 1] = k1;
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  let ctr0 = b0 | 0;
  let ctr1 = b1 | 0;
  const bodyEnd = n - ((n - i) % 4);
  for (; i < bodyEnd; i += 4) {
    let c0 = ctr0;
    let c1 = ctr1;
    let c2 = 0;
    let c3 = 0;
    for (let r = 0; r < 20; r += 2) {
      let aL = c0 & 0xffff;
      let aH = c0 >>> 16;
      let ll = Math.imul(aL, 0x1f53);
      let lh = Math.imul(aL, 0xd251);
      let hl = Math.imul(aH, 0x1f53);
      let mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
      const hi0 = (Math.imul(aH, 0xd251) + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
      const lo0 = Math.imul(M0, c0);
      aL = c2 & 0xffff;
      aH = c2 >>> 16;
      ll = Math.imul(aL, 0x8d57);
      lh = Math.imul(aL, 0xcd9e);
      hl = Math.imul(aH, 0x8d57);
      mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
      const hi1 = (Math.imul(aH, 0xcd9e) + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
      const lo1 = Math.imul(M1, c2);
      c0 = hi1 ^ c1 ^ ks[r]!;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ ks[r + 1]!;
      c3 = lo0;
    }
    ctr0 = (ctr0 + 1) | 0;
    if (ctr0 === 0) ctr1 = (ctr1 + 1) | 0;
    out[i] = (c0 >>> 8) * TWO_NEG_24;
    out[i + 1] = (c1 >>> 8) * TWO_NEG_24;
    out[i + 2] = (c2 >>> 8) * TWO_NEG_24;
    out[i + 3] = (c3 >>> 8) * TWO_NEG_24;
  }

  // Tail: fewer than 4 elements left.
  if (i < n) {
    philox4x32Into(scratch, ctr0, ctr1, 0, 0, s0, s1);
    for (let w = 0; i < n; w++, i++) out[i] = (scratch[w]! >>> 8) * TWO_NEG_24;
  }
}

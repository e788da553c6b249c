/**
 * float32 functions computed in float32 arithmetic, four lanes per f32x4 instruction, for
 * the functions where that stays within 2 ulp and pays. Each is an expression over v128
 * locals (its argument in one, its result in another) that math.ts inlines into kernels and
 * wraps in the module functions the loop tails and the JavaScript kernels call; the scalar
 * form runs the same code on a splat and takes lane 0, so tails give a vector lane's bits,
 * and eager and jit, which run the same kernels, agree bit for bit. Unlike the float64-halves
 * functions these do not give the JavaScript engine's bits: the Wasm engine's op table
 * allows them their ulp.
 *
 * Their constants are module globals (ModuleBuilder.constant): V8 rebuilds a v128.const at
 * every use, inside the loop, with three instructions (loop-invariant locals do not help: its
 * compiler sees through them), where a global is one load. exp over float32 in a loop, one
 * thread, fastest of 15 runs of CPU time: 1.48 ns an element with v128.const constants, 1.29
 * with globals.
 *
 * exp: Cody–Waite reduction x = k ln2 + r (ln2 split so k·C1 is exact), a degree-6
 * polynomial for e^r, and 2^k applied as two exact power-of-two factors (so results that
 * overflow or become subnormal round once). k comes from adding 1.5·2^23 (the float32 sum
 * rounds x·log2(e) to an integer, ties to even, and holds it in its low bits), and x is first
 * clamped to [-110, 89], where e^x already rounds to 0 and overflows: no selects for the
 * special values, NaN passes the clamps and the arithmetic. Measured against float64 over
 * every 61st float32 bit pattern in (-104, 89) and 80M evenly spaced inputs: at most 0.98 ulp.
 * Against the first form (f32x4.nearest, a saturating truncation and selects for the special
 * values, the same bits for every float32) 1.06 ns an element instead of 1.29; on float64
 * halves it was 26.5 ms over 4M, 7.2 ms in the first float32 form. softmax [4096,1024], one
 * thread: 12.2 ms calling the first form, 10.3 ms with this one inline, constants global.
 * Cephes' degree-7 polynomial (a degree-5 factor of r^2) gave way to a minimax one of degree
 * 6, and the factors' exponent fields come from the rounded sum in five integer steps instead
 * of seven: the same 0.98 ulp at most (sigmoid the same 1.47), and four fewer vector
 * operations of 33. Over 4M, one thread, fastest of 15 interleaved rounds of CPU time on the
 * loaded 2-core machine: exp 4.99 ms before, 4.26 after; softmax [4096,1024] 7.99, 7.21.
 *
 * sigmoid (over 4M float32 in a map kernel, one thread, fastest of 20 runs of CPU time:
 * 11.6 ms on float64 halves, 9.9 ms here): e = e^-|x|, then e / (1 + e) for x <= 0 and
 * 1 / (1 + e) for x > 0: the exponent never overflows and the small results of x < 0 keep
 * their relative accuracy down to the subnormals. The quotient is taken in float64 and rounded once: in float32, 1 + e and the
 * division each add half an ulp to exp's 0.98, and the result was up to 2.4 ulp off; this
 * way at most 1.48 (every 7th float32 bit pattern against float64).
 *
 * tanh was tried the same way and not kept: Cephes' polynomial below |x| = 0.625 and
 * 1 - 2/(e^2|x| + 1) above, within 1.33 ulp, but over 4M float32 (fastest of 15 interleaved
 * rounds) tanh took 36.2 ms against 43.8 ms on float64 halves and gelu's tanh form 44.7 ms
 * against 48.6 ms: the division and both branches eat the gain, too little to give up the
 * JavaScript engine's bits.
 */
import type { Code, ModuleBuilder } from './encoder.js';
import type { SimdOp } from './opcodes.js';

const LOG2E = 1.4426950408889634;
/** ln2 = C1 + C2, C1 with 9 significant bits (k·C1 is exact for |k| <= 2^15). */
const C1 = 0.693359375, C2 = -2.12194440e-4;
/**
 * e^r ≈ 1 + r + r^2 (Q0 r^4 + … + Q4) for |r| <= ln2/2: minimax for relative error (Lawson
 * iterations on 20,000 Chebyshev nodes), then rounded to float32: at most 0.064 of half an
 * ulp off e^r, below the float32 rounding of the evaluation.
 */
const EXP_POLY = [
  0.001381459878757596, 0.008368716575205326, 0.04166838899254799, 0.1666652113199234, 0.4999999403953552,
];
/** 1.5·2^23: adding it rounds |y| < 2^22 to an integer whose two's complement bits are the sum's low bits. */
const ROUNDER = 12582912;
/** ROUNDER's float32 bits: the sum's bits minus these are the integer it rounded to. */
const ROUNDER_BITS = 0x4b400000;
/** e^x rounds to 0 below about -103.97 and overflows from 88.73: arguments are clamped to these. */
const EXP_LOW = -110, EXP_HIGH = 89;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const F64 = new Float64Array(1);
const U64 = new Uint32Array(F64.buffer);

/** f32x4 / i32x4 expressions over v128 locals: each operation stores its result in a fresh local. */
export class F32Lanes {
  constructor(readonly c: Code, private readonly module: ModuleBuilder) {}

  private result(): number {
    const local = this.c.local('v128');
    this.c.set(local);
    return local;
  }

  /** The four 32-bit lanes `bits`, from the module's constants. */
  private constant(bits: number): number {
    this.c.global(this.module.constant([bits, bits, bits, bits]));
    return this.result();
  }

  /** Four float32 lanes of `x`. */
  splat(x: number): number {
    F32[0] = x;
    return this.constant(U32[0]!);
  }

  /** Four int32 lanes of `n`. */
  splatInt(n: number): number {
    return this.constant(n);
  }

  /** Two float64 lanes of `x`. */
  splat64(x: number): number {
    F64[0] = x;
    this.c.global(this.module.constant([U64[0]!, U64[1]!, U64[0]!, U64[1]!]));
    return this.result();
  }

  /** i8x16.shuffle of `a` and `b` by the byte lanes `lanes`. */
  shuffle(a: number, b: number, lanes: readonly number[]): number {
    this.c.get(a).get(b).shuffle(lanes);
    return this.result();
  }

  op(op: SimdOp, ...args: number[]): number {
    for (const a of args) this.c.get(a);
    this.c.simd(op);
    return this.result();
  }

  shift(op: 'i32x4.shl' | 'i32x4.shr_s', a: number, bits: number): number {
    this.c.get(a).i32(bits).simd(op);
    return this.result();
  }

  /** `mask ? a : b` lane by lane. */
  select(mask: number, a: number, b: number): number {
    return this.op('v128.bitselect', a, b, mask);
  }

  add(a: number, b: number): number { return this.op('f32x4.add', a, b); }
  sub(a: number, b: number): number { return this.op('f32x4.sub', a, b); }
  mul(a: number, b: number): number { return this.op('f32x4.mul', a, b); }
  /** Wasm's pmin and pmax: `b < a ? b : a` and `a < b ? b : a`, one instruction each; a NaN `a` stays. */
  pmin(a: number, b: number): number { return this.op('f32x4.pmin', a, b); }
  pmax(a: number, b: number): number { return this.op('f32x4.pmax', a, b); }

  /** The sign bit of `sign` put on the magnitude `magnitude` (whose sign bit is clear). */
  withSign(magnitude: number, sign: number): number {
    return this.op('v128.or', magnitude, this.op('v128.and', sign, this.splatInt(0x80000000)));
  }
}

/** e^x of the f32x4 in local `x`: 0 below -103.97, +Inf from 88.73, NaN kept. */
export function expF32x4(w: F32Lanes, x: number): number {
  const clamped = w.pmin(w.pmax(x, w.splat(EXP_LOW)), w.splat(EXP_HIGH));
  const shifted = w.add(w.mul(clamped, w.splat(LOG2E)), w.splat(ROUNDER));
  const k = w.sub(shifted, w.splat(ROUNDER));
  const r = w.sub(w.sub(clamped, w.mul(k, w.splat(C1))), w.mul(k, w.splat(C2)));
  let p = w.splat(EXP_POLY[0]!);
  for (const coefficient of EXP_POLY.slice(1)) p = w.add(w.mul(p, r), w.splat(coefficient));
  const y = w.add(w.add(w.mul(p, w.mul(r, r)), r), w.splat(1));
  // k in [-159, 128] after the clamp; a = k + 254 from the sum's low bits. 2^k is the product
  // of the normal numbers whose exponent fields are a >> 1 and a - (a >> 1) (both in [47, 191]).
  const a = w.op('i32x4.sub', shifted, w.splatInt(ROUNDER_BITS - 254));
  const half = w.shift('i32x4.shr_s', a, 1);
  return w.mul(w.mul(y, w.shift('i32x4.shl', half, 23)), w.shift('i32x4.shl', w.op('i32x4.sub', a, half), 23));
}

/** Byte lanes of i8x16.shuffle: the high two float32 lanes of the first operand moved down. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Byte lanes of i8x16.shuffle: the low two float32 lanes of each operand, side by side. */
const JOIN_LOWS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** 1 / (1 + e^-x) of the f32x4 in local `x`. */
export function sigmoidF32x4(w: F32Lanes, x: number): number {
  const e = expF32x4(w, w.op('f32x4.neg', w.op('f32x4.abs', x)));
  // e / (1 + e) for x <= 0, and 1 - that = 1 / (1 + e) for x > 0: one quotient, rounded once.
  const numerator = w.select(w.op('f32x4.gt', x, w.splat(0)), w.splat(1), e);
  const one = w.splat64(1);
  const quotient = (high: boolean) => {
    const promote = (v: number) => w.op('f64x2.promote_low_f32x4', high ? w.shuffle(v, v, HIGH_HALF) : v);
    return w.op('f32x4.demote_f64x2_zero', w.op('f64x2.div', promote(numerator), w.op('f64x2.add', one, promote(e))));
  };
  return w.shuffle(quotient(false), quotient(true), JOIN_LOWS);
}


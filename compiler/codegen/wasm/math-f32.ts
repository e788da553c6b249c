/**
 * float32 functions computed in float32 arithmetic, four lanes per f32x4 instruction, for
 * the functions where that stays within 1 ulp and pays: each takes its argument in a v128
 * local and leaves the result on the stack. The scalar form (math.ts) runs the same code on
 * a splat and takes lane 0, so tails give a vector lane's bits; eager and jit run the same
 * kernels, so they agree bit for bit. Unlike the float64-halves functions these do not give
 * the JavaScript engine's bits: the Wasm engine's op table allows them their ulp.
 *
 * exp: Cody–Waite reduction x = k ln2 + r (ln2 split so k·C1 is exact), Cephes' degree-6
 * polynomial for e^r, and 2^k applied as two exact power-of-two factors (so results that
 * overflow or become subnormal round once). Measured against float64 over every 61st
 * float32 bit pattern in (-104, 89) and 80M evenly spaced inputs: at most 0.98 ulp. Speed, one
 * thread, fastest of 21 runs on the loaded 2-core machine: exp over 4M float32 26.5 ms on
 * float64 halves, 7.2 ms here; softmax [4096,1024] (one exp per element) 36.1 ms, 29.1 ms;
 * in 15 interleaved rounds at a load of 20, exp 30.6 ms against 20.5 ms.
 *
 * tanh was tried the same way and not kept: Cephes' polynomial below |x| = 0.625 and
 * 1 - 2/(e^2|x| + 1) above, within 1.33 ulp, but over 4M float32 (fastest of 15 interleaved
 * rounds) tanh took 36.2 ms against 43.8 ms on float64 halves and gelu's tanh form 44.7 ms
 * against 48.6 ms: the division and both branches eat the gain, too little to give up the
 * JavaScript engine's bits.
 */
import type { Code } from './encoder.js';
import type { SimdOp } from './opcodes.js';

const LOG2E = 1.4426950408889634;
/** ln2 = C1 + C2, C1 with 9 significant bits (k·C1 is exact for |k| <= 2^15). */
const C1 = 0.693359375, C2 = -2.12194440e-4;
/** Cephes expf: e^r ≈ 1 + r + r^2 (P0 r^5 + … + P5) for |r| <= ln2/2. */
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3333452872e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/** f32x4 / i32x4 expressions over v128 locals: each operation stores its result in a fresh local. */
class F32Lanes {
  constructor(private readonly c: Code) {}

  private result(): number {
    const local = this.c.local('v128');
    this.c.set(local);
    return local;
  }

  /** Four float32 lanes of `x`. */
  splat(x: number): number {
    this.c.f32x4([x, x, x, x]);
    return this.result();
  }

  /** Four int32 lanes of `n`. */
  splatInt(n: number): number {
    this.c.i32x4([n, n, n, n]);
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
}

/** 2^n for int32 lanes -126 <= n <= 127: the exponent field set to n + 127. */
function pow2(w: F32Lanes, n: number): number {
  return w.shift('i32x4.shl', w.op('i32x4.add', n, w.splatInt(127)), 23);
}

/** e^x of the f32x4 in local `x`: 0 below -104 (and rounding to 0 above it), +Inf from 89, NaN kept. */
export function expF32x4(c: Code, x: number): void {
  const w = new F32Lanes(c);
  const k = w.op('f32x4.nearest', w.mul(x, w.splat(LOG2E)));
  const r = w.sub(w.sub(x, w.mul(k, w.splat(C1))), w.mul(k, w.splat(C2)));
  let p = w.splat(EXP_POLY[0]!);
  for (const coefficient of EXP_POLY.slice(1)) p = w.add(w.mul(p, r), w.splat(coefficient));
  const y = w.add(w.add(w.mul(p, w.mul(r, r)), r), w.splat(1));
  // k in [-150, 128] inside the range: two factors 2^(k >> 1) and 2^(k - (k >> 1)) are normal numbers.
  const ki = w.op('i32x4.trunc_sat_f32x4_s', k);
  const half = w.shift('i32x4.shr_s', ki, 1);
  const v = w.mul(w.mul(y, pow2(w, half)), pow2(w, w.op('i32x4.sub', ki, half)));
  const inside = w.op('v128.and', w.op('f32x4.gt', x, w.splat(-104)), w.op('f32x4.lt', x, w.splat(89)));
  const outside = w.select(w.op('f32x4.gt', x, w.splat(0)), w.splat(Infinity), w.splat(0));
  const special = w.select(w.op('f32x4.ne', x, x), x, outside);
  c.get(v).get(special).get(inside).simd('v128.bitselect');
}

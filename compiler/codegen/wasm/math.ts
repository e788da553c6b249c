/**
 * kiln's float32 transcendental functions for WebAssembly kernels: each declared into a
 * module once, as a vector function (v128 of four float32 lanes -> v128) and a scalar one
 * (f32 -> f32) for loop tails; pow likewise with two arguments.
 *
 * Both forms compute on float64x2 lanes with one instruction sequence (math-exp.ts, math-pow.ts,
 * math-erf.ts, math-trig.ts): the vector form on both halves of the f32x4 side by side,
 * rounding them back, the scalar form on a splat of its argument. Every step is lane-wise,
 * so a scalar result is the same float32 as that lane of a vector result (NaN aside, whose
 * bits WebAssembly leaves open): where a tensor's tail starts never changes its values. Computing
 * in float64 keeps every function within 1 ulp of the true result over the whole float32
 * range, and lets expm1, log, log1p, tanh and (below 2^20) sin and cos follow the
 * JavaScript engine's float64 steps exactly, so both CPU engines give the same bits.
 * exp, sigmoid and erf are the exceptions: computed in float32 on all four lanes at once
 * (math-f32.ts, math-erf-f32.ts) and inlined into kernels, they are 1.2 to 3.7 times as fast
 * and within 0.98, 1.48 and 1.72 ulp, but their bits are not the JavaScript engine's.
 *
 * Measured against float64 over every 67th float32 bit pattern (64M inputs; pow: 4M pairs),
 * the largest error after the float32 rounding is 0.508 ulp (expm1), so no result is
 * more than one float32 step from the correctly rounded one; under 0.0001% (log) to 0.045% (pow)
 * of results are not correctly rounded.
 */
import type { Code, ModuleBuilder } from './encoder.js';
import { erfc } from './math-erf.js';
import { erfF32x4 } from './math-erf-f32.js';
import { expF32x4, F32Lanes, sigmoidF32x4 } from './math-f32.js';
import { expm1, log, log1p, sigmoid, tanh } from './math-exp.js';
import { LaneWriter, type Lanes } from './math-lanes.js';
import { pow } from './math-pow.js';
import { trig } from './math-trig.js';

/** The float32 functions kiln's Wasm kernels call (the elementwise primitives without a Wasm instruction). */
export type WasmMathFn =
  | 'exp' | 'expm1' | 'log' | 'log1p' | 'tanh' | 'sigmoid' | 'erf' | 'erfc' | 'sin' | 'cos' | 'tan';

/** The functions computed in float32 arithmetic on f32x4 lanes (math-f32.ts). */
type Float32Fn = 'exp' | 'sigmoid' | 'erf';

/** Each other function on float64x2 lanes: the promoted inputs in, the float64 results out. */
const cores: { readonly [F in Exclude<WasmMathFn, Float32Fn>]: (w: LaneWriter, x: Lanes) => Lanes } = {
  expm1, log, log1p, tanh, erfc,
  sin: (w, x) => trig(w, 'sin', x),
  cos: (w, x) => trig(w, 'cos', x),
  tan: (w, x) => trig(w, 'tan', x),
};

/** Each float32 function: the f32x4 argument in a local, the local of the f32x4 result returned. */
const float32Cores: { readonly [F in Float32Fn]: (w: F32Lanes, x: number) => number } = {
  exp: expF32x4, sigmoid: sigmoidF32x4, erf: erfF32x4,
};

function inFloat32(fn: WasmMathFn): fn is Float32Fn {
  return Object.hasOwn(float32Cores, fn);
}

/** The float32 functions of two arguments. */
export type WasmMathBinaryFn = 'pow';

const binaryCores: { readonly [F in WasmMathBinaryFn]: (w: LaneWriter, a: Lanes, b: Lanes) => Lanes } = { pow };

/** Every {@link WasmMathFn}. */
export const wasmMathFns = [...Object.keys(float32Cores), ...Object.keys(cores)] as readonly WasmMathFn[];

/** Every {@link WasmMathBinaryFn}. */
export const wasmMathBinaryFns = Object.keys(binaryCores) as readonly WasmMathBinaryFn[];

/** Byte lanes of i8x16.shuffle: the high two float32 lanes of the first operand moved down. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Byte lanes of i8x16.shuffle: the low two float32 lanes of each operand, side by side. */
const JOIN_LOWS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** Promotes both halves of the f32x4 in parameter `param` into the two copies of a new value. */
function promoteHalves(w: LaneWriter, param: number): Lanes {
  const x = w.variable();
  w.code.get(param).simd('f64x2.promote_low_f32x4').set(x.locals[0]!);
  w.code.get(param).get(param).shuffle(HIGH_HALF).simd('f64x2.promote_low_f32x4').set(x.locals[1]!);
  return x;
}

/** Rounds both copies back to float32 and joins them into one f32x4 on the stack. */
function demoteHalves(w: LaneWriter, y: Lanes): Code {
  w.push(y, 0).simd('f32x4.demote_f64x2_zero');
  return w.push(y, 1).simd('f32x4.demote_f64x2_zero').shuffle(JOIN_LOWS);
}

/** Splats the f32 in parameter `param`, promoted, into a new single-copy value. */
function promoteScalar(w: LaneWriter, param: number): Lanes {
  const x = w.variable();
  w.code.get(param).op('f64.promote_f32').simd('f64x2.splat').set(x.locals[0]!);
  return x;
}

/** Rounds lane 0 of the single copy back to an f32 on the stack. */
function demoteScalar(w: LaneWriter, y: Lanes): Code {
  return w.push(y, 0).lane('f64x2.extract_lane', 0).op('f32.demote_f64');
}

/** The math functions of one module: each declared on first use, then reused by index. */
export class WasmMath {
  private readonly vectorIndex = new Map<WasmMathFn, number>();
  private readonly scalarIndex = new Map<WasmMathFn, number>();
  private readonly vectorBinaryIndex = new Map<WasmMathBinaryFn, number>();
  private readonly scalarBinaryIndex = new Map<WasmMathBinaryFn, number>();

  constructor(private readonly module: ModuleBuilder) {}

  /**
   * Computes `fn` of local `x` (an f32x4 with `vector`, else an f32) onto the stack of `c`, a
   * function of this module: the float32 functions' vector form inline (a call costs more
   * than their body saves in a loop: softmax [4096,1024], one thread, 11.5 ms calling exp,
   * 10.8 ms inline), every other form a call.
   */
  emit(c: Code, fn: WasmMathFn, x: number, vector: boolean): void {
    if (vector && inFloat32(fn)) return void c.get(float32Cores[fn](new F32Lanes(c, this.module), x));
    c.get(x).indexed('call', vector ? this.vector(fn) : this.scalar(fn));
  }

  /** The index of `fn` over four float32 lanes: (v128) -> v128. */
  vector(fn: WasmMathFn): number {
    return declare(this.vectorIndex, fn, () => this.module.func(undefined, ['v128'], ['v128'], (code) => {
      if (inFloat32(fn)) return void code.get(float32Cores[fn](new F32Lanes(code, this.module), 0));
      const w = new LaneWriter(code, 2, this.module);
      demoteHalves(w, cores[fn](w, promoteHalves(w, 0)));
    }));
  }

  /** The index of `fn` on one float32: (f32) -> f32, bit for bit a lane of {@link vector} (NaN bits aside). */
  scalar(fn: WasmMathFn): number {
    return declare(this.scalarIndex, fn, () => this.module.func(undefined, ['f32'], ['f32'], (code) => {
      if (inFloat32(fn)) {
        const lanes = code.local('v128');
        code.get(0).simd('f32x4.splat').set(lanes);
        code.get(float32Cores[fn](new F32Lanes(code, this.module), lanes)).lane('f32x4.extract_lane', 0);
        return;
      }
      const w = new LaneWriter(code, 1, this.module);
      demoteScalar(w, cores[fn](w, promoteScalar(w, 0)));
    }));
  }

  /** The index of `fn` over four float32 lane pairs: (v128, v128) -> v128. */
  vectorBinary(fn: WasmMathBinaryFn): number {
    return declare(this.vectorBinaryIndex, fn, () => this.module.func(undefined, ['v128', 'v128'], ['v128'], (code) => {
      const w = new LaneWriter(code, 2, this.module);
      demoteHalves(w, binaryCores[fn](w, promoteHalves(w, 0), promoteHalves(w, 1)));
    }));
  }

  /** The index of `fn` on two float32: (f32, f32) -> f32, bit for bit a lane of {@link vectorBinary}. */
  scalarBinary(fn: WasmMathBinaryFn): number {
    return declare(this.scalarBinaryIndex, fn, () => this.module.func(undefined, ['f32', 'f32'], ['f32'], (code) => {
      const w = new LaneWriter(code, 1, this.module);
      demoteScalar(w, binaryCores[fn](w, promoteScalar(w, 0), promoteScalar(w, 1)));
    }));
  }
}

/** The cached index of `fn`, or the one `make` declares. */
function declare<F extends string>(cache: Map<F, number>, fn: F, make: () => number): number {
  const known = cache.get(fn);
  if (known !== undefined) return known;
  const index = make();
  cache.set(fn, index);
  return index;
}

/**
 * kiln's Wasm float32 math: the modules validate, every function stays within its bound (1
 * ulp; 2 for sigmoid and erf, computed in float32) of the float64 result over a sweep of the
 * whole float32 range and dense sweeps of the ranges kernels see (±0, ±Inf, NaN, subnormals
 * and large |x| among them), special values and the overflow and underflow thresholds come out exact,
 * the scalar form gives a vector lane's bits, and the functions that mirror the JavaScript
 * engine's float64 steps give its bits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Code, ModuleBuilder } from '../../../../compiler/codegen/wasm/encoder.js';
import { WasmMath, wasmMathBinaryFns, wasmMathFns, type WasmMathFn } from '../../../../compiler/codegen/wasm/math.js';
import { f32Math } from '../../../../compiler/scalar/f32-math.js';
import { erf64, erfc64, powC, sigmoid64 } from '../../../../compiler/scalar/f64-math.js';
import { wasmApi } from '../../../../runtime/wasm/api.js';
import { MathMaps, renderMathMaps } from './math-harness.js';

/** The float64 reference of each function. */
const reference: { readonly [F in WasmMathFn]: (x: number) => number } = {
  exp: Math.exp, expm1: Math.expm1, log: Math.log, log1p: Math.log1p, tanh: Math.tanh,
  sigmoid: sigmoid64, erf: erf64, erfc: erfc64, sin: Math.sin, cos: Math.cos, tan: Math.tan,
};

/** The range each function's arguments mostly come from, swept densely. */
const dense: { readonly [F in WasmMathFn]: readonly [number, number] } = {
  exp: [-104, 89], expm1: [-18, 89], log: [0, 4], log1p: [-1, 4], tanh: [-10, 10], sigmoid: [-20, 20],
  erf: [-4.5, 4.5], erfc: [-4, 10.5], sin: [-40, 40], cos: [-40, 40], tan: [-40, 40],
};

/** How far from the float64 result each function may round: the float32-arithmetic ones (math-f32.ts) 2 ulp. */
const bound: { readonly [F in WasmMathFn]: number } = {
  exp: 1, expm1: 1, log: 1, log1p: 1, tanh: 1, sigmoid: 2, erf: 2, erfc: 1, sin: 1, cos: 1, tan: 1,
};

/**
 * Functions whose float64 steps are the JavaScript engine's (trig below 2^20 only); exp and
 * sigmoid are computed in float32 arithmetic instead (math-f32.ts), with other bits.
 */
const mirrored = ['expm1', 'log', 'log1p', 'tanh', 'sin', 'cos'] as const;

const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);

function fromBits(b: number): number {
  bits[0] = b;
  return float[0]!;
}

function toBits(x: number): number {
  float[0] = x;
  return bits[0]!;
}

/** The float32 `steps` representable values after (positive steps) or before x > 0. */
function neighbours(x: number, steps: number): number[] {
  const b = toBits(Math.fround(x));
  return Array.from({ length: 2 * steps + 1 }, (_, i) => fromBits(b + i - steps));
}

const STRIDE = 4093;
const STRIDED = Math.floor(2 ** 32 / STRIDE);
const GRID = 2 ** 18;

/** Every 4093rd float32 bit pattern (NaNs and infinities included), then a grid of 2^18 over `range`. */
function sweep(range: readonly [number, number]): Float32Array {
  const out = new Float32Array(STRIDED + GRID);
  new Uint32Array(out.buffer, 0, STRIDED).forEach((_, i, b) => { b[i] = i * STRIDE; });
  const [lo, hi] = range;
  for (let i = 0; i < GRID; i++) out[STRIDED + i] = lo + ((hi - lo) * i) / GRID;
  return out;
}

/** |got - want| in units of the float32 spacing at want; 0 where both are the same infinity or NaN. */
function ulpError(got: number, want: number): number {
  if (Number.isNaN(want)) return Number.isNaN(got) ? 0 : Infinity;
  const rounded = Math.fround(want);
  if (!Number.isFinite(rounded) || !Number.isFinite(got)) return got === rounded ? 0 : Infinity;
  const a = Math.abs(want);
  const ulp = a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
  return Math.abs(got - want) / ulp;
}

let maps: MathMaps;
beforeAll(() => {
  maps = new MathMaps();
});

describe('Wasm math modules', () => {
  it('encode integer vector constants lane by lane, little-endian', () => {
    const code = new Code([]).i32x4([1, -1, 0x80000000, 0x01020304]);
    expect(code.bytes).toEqual([0xfd, 0x0c, 1, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0x80, 4, 3, 2, 1]);
    expect(() => new Code([]).i32x4([2 ** 32, 0, 0, 0])).toThrow(/i32x4 lane/);
  });

  it('keep each distinct v128 constant once, as a global that global.get reads', () => {
    const module = new ModuleBuilder({ initial: 1, shared: false });
    const a = module.constant([1, -1, 0x80000000, 7]);
    expect(module.constant([1, 0xffffffff, -0x80000000, 7])).toBe(a);
    const b = module.constant([2, 2, 2, 2]);
    expect(b).not.toBe(a);
    for (let lane = 0; lane < 4; lane++) {
      module.func(`a${lane}`, [], ['i32'], (c) => void c.global(a).lane('i32x4.extract_lane', lane));
    }
    module.func('b', [], ['i32'], (c) => void c.global(b).lane('i32x4.extract_lane', 3));
    const memory = new wasmApi!.Memory({ initial: 1 });
    const exports = new wasmApi!.Instance(new wasmApi!.Module(module.encode()), { env: { memory } }).exports;
    const read = (name: string) => (exports[name] as () => number)();
    expect([0, 1, 2, 3].map((lane) => read(`a${lane}`))).toEqual([1, -1, -0x80000000, 7]);
    expect(read('b')).toBe(2);
    expect(() => module.constant([2 ** 32, 0, 0, 0])).toThrow(/i32x4 lane/);
  });

  it('validate, and declare each function once per module', () => {
    expect(wasmApi!.validate(renderMathMaps(1))).toBe(true);
    for (const fn of wasmMathFns) {
      const module = new ModuleBuilder({ initial: 1, shared: false });
      const math = new WasmMath(module);
      const v = math.vector(fn), s = math.scalar(fn);
      expect(math.vector(fn)).toBe(v);
      expect(math.scalar(fn)).toBe(s);
      module.func('f', ['v128'], ['v128'], (c) => c.get(0).indexed('call', v));
      expect(wasmApi!.validate(module.encode()), fn).toBe(true);
    }
    for (const fn of wasmMathBinaryFns) {
      const module = new ModuleBuilder({ initial: 1, shared: false });
      const math = new WasmMath(module);
      const v = math.vectorBinary(fn), s = math.scalarBinary(fn);
      expect([math.vectorBinary(fn), math.scalarBinary(fn)]).toEqual([v, s]);
      module.func('f', ['f32', 'f32'], ['f32'], (c) => c.get(0).get(1).indexed('call', s));
      expect(wasmApi!.validate(module.encode()), fn).toBe(true);
    }
  });
});

describe.each(wasmMathFns)('%s', (fn) => {
  const xs = sweep(dense[fn]);
  let vector: Float32Array;
  beforeAll(() => {
    vector = maps.map(fn, 'vector', xs);
  });

  it(`is within ${bound[fn]} ulp of the float64 result`, () => {
    const ref = reference[fn];
    let worst = 0, at = 0;
    for (let i = 0; i < xs.length; i++) {
      const e = ulpError(vector[i]!, ref(xs[i]!));
      if (e > worst) [worst, at] = [e, xs[i]!];
    }
    expect(worst, `${fn}(${at})`).toBeLessThanOrEqual(bound[fn]);
  });

  it('gives a vector lane\'s bits in its scalar form', () => {
    const scalar = maps.map(fn, 'scalar', xs);
    const u = new Uint32Array(vector.buffer), v = new Uint32Array(scalar.buffer);
    for (let i = 0; i < xs.length; i++) {
      if (u[i] !== v[i] && !(Number.isNaN(vector[i]) && Number.isNaN(scalar[i]))) {
        expect(scalar[i], `${fn}(${xs[i]})`).toBe(vector[i]);
      }
    }
  });
});

describe('special values and thresholds', () => {
  const specials = [0, -0, Infinity, -Infinity, NaN, 2 ** -149, -(2 ** -149), 2 ** -126, 3.4028234663852886e38, -1];
  /** Arguments around which the float32 result changes regime: overflow, underflow, saturation. */
  const thresholds: { readonly [F in WasmMathFn]: readonly number[] } = {
    exp: [88.72283935546875, -103.97207708, -87.33654475, -104, 89],
    expm1: [88.72283935546875, -17.328679514, -18, 2 ** -25],
    log: [1, 2 ** -149, 2 ** 128 * (1 - 2 ** -24)],
    log1p: [-1, -1 + 2 ** -24, 2 ** -29],
    tanh: [9.010913347, 9.1, 2 ** -13],
    sigmoid: [-103.97207708, 16.635532333, 18, -104],
    erf: [3.9192059, 3.921875, 1, 1.5, 0.75, 2 ** -126],
    erfc: [0.5, 2, 10.054195404052734, 10.0625, 3.9192059, 2 ** -126],
    sin: [2 ** 20, 2 ** -12, Math.PI, 1e38, 102940.390625],
    cos: [2 ** 20, 2 ** -12, Math.PI / 2, 1e38, 102940.390625],
    tan: [2 ** 20, 2 ** -12, Math.PI / 2, 1e38, 102940.390625],
  };

  it.each(wasmMathFns)('%s rounds them as the float64 result does', (fn) => {
    const xs = new Float32Array([
      ...specials,
      ...thresholds[fn].flatMap((t) => [...neighbours(t, 3), ...neighbours(-t, 3)]),
    ]);
    const got = maps.map(fn, 'vector', xs);
    for (let i = 0; i < xs.length; i++) {
      const want = Math.fround(reference[fn](xs[i]!));
      // Exact where the float64 result is exact or saturates; within the bound elsewhere (tested above).
      if (!Number.isFinite(want) || want === 0 || Math.abs(want) === 1 || Number.isNaN(want)) {
        expect(Object.is(got[i], want), `${fn}(${xs[i]}) = ${got[i]}, want ${want}`).toBe(true);
      } else {
        expect(ulpError(got[i]!, reference[fn](xs[i]!)), `${fn}(${xs[i]})`).toBeLessThanOrEqual(bound[fn]);
      }
    }
  });
});

describe('agreement with the JavaScript engine', () => {
  it.each(mirrored)('%s gives the bits of the float32 helper', (fn) => {
    const xs = sweep(dense[fn]).filter((x) => !((fn === 'sin' || fn === 'cos') && Math.abs(x) >= 2 ** 20));
    const got = maps.map(fn, 'vector', xs);
    const helper = f32Math[fn];
    for (let i = 0; i < xs.length; i++) {
      const want = helper(xs[i]!);
      if (!Object.is(got[i], want) && !(Number.isNaN(want) && Number.isNaN(got[i]))) {
        expect(got[i], `${fn}(${xs[i]})`).toBe(want);
      }
    }
  });
});

describe('pow', () => {
  /**
   * Pairs: strided bases with exponents met in practice, then bases 2^U[-12,12] of either sign
   * with exponents U[-10,10] and integers.
   */
  function pairs(): [Float32Array, Float32Array] {
    const exponents = [2, 3, 0.5, -1, -2, 1 / 3, -0.5, 2.5, 7, -7, 100, -100, 1e-3];
    const strided = Math.floor(2 ** 32 / 65521);
    const n = strided * exponents.length + 2 ** 19;
    const as = new Float32Array(n), bs = new Float32Array(n);
    const asBits = new Uint32Array(as.buffer);
    exponents.forEach((b, k) => {
      for (let i = 0; i < strided; i++) {
        asBits[k * strided + i] = i * 65521;
        bs[k * strided + i] = b;
      }
    });
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = strided * exponents.length; i < n; i++) {
      as[i] = (random() < 0.5 ? -1 : 1) * 2 ** (-12 + 24 * random());
      bs[i] = i % 2 === 0 ? Math.round(-40 + 80 * random()) : -10 + 20 * random();
    }
    return [as, bs];
  }

  it('is within 1 ulp of the float64 result, and its scalar form gives a vector lane\'s bits', () => {
    const [as, bs] = pairs();
    const vector = maps.map2('pow', 'vector', as, bs);
    const scalar = maps.map2('pow', 'scalar', as, bs);
    let worst = 0, at = '';
    for (let i = 0; i < as.length; i++) {
      const e = ulpError(vector[i]!, powC(as[i]!, bs[i]!));
      if (e > worst) [worst, at] = [e, `${as[i]} ** ${bs[i]}`];
      if (!Object.is(vector[i], scalar[i]) && !(Number.isNaN(vector[i]) && Number.isNaN(scalar[i]))) {
        expect(scalar[i], `${as[i]} ** ${bs[i]}`).toBe(vector[i]);
      }
    }
    expect(worst, at).toBeLessThanOrEqual(1);
  });

  it('follows C\'s special cases exactly', () => {
    const values = [
      0, -0, 1, -1, Infinity, -Infinity, NaN, 0.5, -0.5, 2, -2, 3, -3, 2.5, -2.5,
      1e30, -1e30, 1e-30, 2 ** 24, 2 ** 24 + 2,
    ];
    const as = new Float32Array(values.flatMap((a) => values.map(() => a)));
    const bs = new Float32Array(values.flatMap(() => values));
    const got = maps.map2('pow', 'vector', as, bs);
    for (let i = 0; i < as.length; i++) {
      const ref = powC(as[i]!, bs[i]!);
      const want = Math.fround(ref);
      if (!Number.isFinite(want) || want === 0 || Math.abs(want) === 1) {
        expect(Object.is(got[i], want), `${as[i]} ** ${bs[i]} = ${got[i]}, want ${want}`).toBe(true);
      } else {
        expect(ulpError(got[i]!, ref), `${as[i]} ** ${bs[i]}`).toBeLessThanOrEqual(1);
      }
    }
  });
});

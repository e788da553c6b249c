/**
 * The Wasm renderer against the JavaScript one: each kernel runs on the Wasm backend (as a
 * Wasm module, checked to be one) and on the JavaScript engine's CPU backend over the same
 * inputs, with NaN, ±0, ±Infinity, the int32 extremes and vector tails, contiguous,
 * broadcast and strided; the results must be the same bits.
 */
import { describe, expect, it } from 'vitest';
import { cpu } from '../../../compiler/backends.js';
import type { KernelSpec, MapSpec, MultiSpec } from '../../../compiler/kernel.js';
import {
  lowerElementwise, lowerGather, lowerMatmul, lowerReduce, lowerScatterAdd, type Layout, type Lowered,
} from '../../../compiler/lower.js';
import type { BinaryPrim, ReducePrim, UnaryPrim } from '../../../compiler/ir/primitives.js';
import type { Backend } from '../../../runtime/backend.js';
import { ARRAY_OF, type DType, type TypedArray } from '../../../runtime/dtype.js';
import type { WasmProgram } from '../../../runtime/wasm/backend.js';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { rendererPair } from './wasm/renderer-pair.js';

const { js, wasm, kinds } = rendererPair();

const SPECIAL: Record<DType, number[]> = {
  float32: [NaN, -0, 0, Infinity, -Infinity, 1.5, -2.5, 2.5, 0.5, -0.5, 3e38, -3e38, 1e-45, Math.fround(0.1), 7, -7, 1 / 3],
  float64: [NaN, -0, 0, Infinity, -Infinity, 1.5, -2.5, 2.5, 0.5, 1e308, -1e308, 5e-324, 0.1, 7, -7, 1 / 3],
  int32: [-2147483648, 2147483647, -1, 0, 1, 255, -256, 46341, -46341, 7, -7, 100000],
  uint8: [0, 1, 2, 127, 128, 200, 255, 7],
  bool: [0, 1, 1, 0, 1],
  // float16 kernels run as JavaScript on the Wasm engine: no Wasm row draws float16 values.
  float16: [],
};

/** `n` values of `dtype`: the special ones first, then a deterministic spread. */
function values(dtype: DType, n: number, salt: number): TypedArray {
  const out = new ARRAY_OF[dtype](n);
  const special = SPECIAL[dtype];
  for (let i = 0; i < n; i++) {
    const r = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
    const fraction = (r - Math.trunc(r)) * 200 - 100;
    const spread = dtype === 'bool' ? Math.floor(r * 7) & 1 : dtype === 'uint8' ? Math.floor(Math.abs(r)) & 255 : fraction;
    out[i] = (i + salt) % 3 === 0 ? special[(i + salt) % special.length]! : dtype === 'int32' ? Math.trunc(spread * 1e6) : spread;
  }
  return out;
}

const contiguous = (dtype: DType, shape: number[], offset = 0): Layout => {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1));
  return { dtype, shape, strides, offset };
};

function elements(layout: Layout): number {
  let last = layout.offset;
  layout.shape.forEach((n, d) => (last += (n - 1) * Math.max(0, layout.strides[d]!)));
  return last + 1;
}

/** Runs `lowered` on `backend` with inputs from `values`; the output's elements. */
function run(backend: Backend<any, any, KernelSpec>, lowered: Lowered, inputs: readonly Layout[], out: Layout): TypedArray {
  const outBuf = backend.alloc(out.dtype, elements(out));
  const bufs = inputs.map((l, i) => {
    const b = backend.alloc(l.dtype, elements(l));
    backend.write(b, l.dtype, values(l.dtype, elements(l), i + 1));
    return b;
  });
  const args = [{ data: outBuf, offset: out.offset }, ...bufs.map((data, i) => ({ data, offset: inputs[i]!.offset }))];
  backend.run([{ kernel: backend.compile(lowered.key, lowered.build), args, scalars: [] }]);
  const result = backend.readSync!(outBuf, out.dtype, 0, elements(out));
  for (const b of [outBuf, ...bufs]) backend.free(b);
  return result;
}

/** Same bits, reading NaN as NaN whatever its payload (JavaScript does not keep payloads). */
function expectSameBits(got: TypedArray, want: TypedArray, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const same = Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
    if (!same) throw new Error(`${what}: element ${i}: wasm ${got[i]}, js ${want[i]}`);
  }
}

function check(
  lowered: Lowered, inputs: readonly Layout[], out: Layout, what: string, kind: WasmProgram['kind'] = 'wasm',
  reference: Backend<any, any, KernelSpec> = js,
): void {
  kinds.length = 0;
  const got = run(wasm, lowered, inputs, out);
  expect(kinds, `${what} renders as`).toEqual([kind]);
  expectSameBits(got, run(reference, lowered, inputs, out), what);
}

/** Runs a gather or scatter `lowered` over `index` and `data`, into `out` (which starts with values of its own). */
function runIndexed(
  backend: Backend<any, any, KernelSpec>, lowered: Lowered, index: Int32Array, data: Layout, out: Layout,
): TypedArray {
  const outBuf = backend.alloc(out.dtype, elements(out));
  const indexBuf = backend.alloc('int32', index.length);
  const dataBuf = backend.alloc(data.dtype, elements(data));
  try {
    backend.write(outBuf, out.dtype, values(out.dtype, elements(out), 5));
    backend.write(indexBuf, 'int32', index);
    backend.write(dataBuf, data.dtype, values(data.dtype, elements(data), 2));
    const args = [{ data: outBuf, offset: 0 }, { data: indexBuf, offset: 0 }, { data: dataBuf, offset: 0 }];
    backend.run([{ kernel: backend.compile(lowered.key, lowered.build), args, scalars: [] }]);
    return backend.readSync!(outBuf, out.dtype, 0, elements(out));
  } finally {
    for (const b of [outBuf, indexBuf, dataBuf]) backend.free(b);
  }
}

/**
 * A gather or scatter along an axis of 7 with indices in range: as a Wasm module, the
 * JavaScript engine's bits; with one bad index near the end (negative, 7, the int32
 * minimum): the JavaScript engine's error.
 */
function checkIndexed(lowered: Lowered, data: Layout, index: Layout, out: Layout, what: string): void {
  const n = elements(index);
  const good = Int32Array.from({ length: n }, (_, i) => (i * 5 + 3) % 7);
  kinds.length = 0;
  const got = runIndexed(wasm, lowered, good, data, out);
  expect(kinds, `${what} renders as`).toEqual(['wasm']);
  expectSameBits(got, runIndexed(js, lowered, good, data, out), what);
  for (const bad of [-1, 7, -2147483648]) {
    const indices = good.slice();
    indices[n - 3] = bad;
    let message = '';
    try {
      runIndexed(js, lowered, indices, data, out);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message, `${what}: the JavaScript engine rejects index ${bad}`).toMatch(/out of range/);
    expect(() => runIndexed(wasm, lowered, indices, data, out), `${what} index ${bad}`).toThrow(message);
  }
}

/** How many float32 steps apart `a` and `b` are (0 for any two NaN). */
function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  // Map the sign-magnitude bits onto one ordered integer line, -0 and +0 one step apart.
  const ordered = (i: number) => (bits[i]! < 0 ? -0x80000000 - bits[i]! - 1 : bits[i]!);
  return Math.abs(ordered(0) - ordered(1));
}

/**
 * Like check, within `ulps(input)` float32 steps of the JavaScript engine for each element (0: the same bits);
 * `ulps` reads the first input's element, whose size decides where sin and cos may differ.
 */
function checkUlps(
  lowered: Lowered, inputs: readonly Layout[], out: Layout, what: string, ulps: (x: number) => number,
): void {
  kinds.length = 0;
  const got = run(wasm, lowered, inputs, out);
  expect(kinds, `${what} renders as`).toEqual(['wasm']);
  const want = run(js, lowered, inputs, out);
  // The same layouts and salts as run: element i of the output reads the first input's element at its own index.
  const x = values(inputs[0]!.dtype, elements(inputs[0]!), 1);
  const strides = inputs[0]!.strides, cols = out.shape[1]!;
  for (let i = 0; i < out.shape[0]! * cols; i++) {
    const r = Math.floor(i / cols), k = i % cols;
    const at = out.offset + i;
    const input = x[inputs[0]!.offset + r * strides[0]! + k * strides[1]!]!;
    const allowed = ulps(input);
    if (ulpDistance(got[at]!, want[at]!) > allowed) {
      throw new Error(`${what}: element ${i} of ${input}: wasm ${got[at]}, js ${want[at]} (${allowed} ulp allowed)`);
    }
  }
}

/** Layouts of one operand of `shape`: contiguous with an offset, broadcast along the last dim, transposed. */
function layouts(dtype: DType, shape: [number, number]): [string, Layout][] {
  return [
    ['contiguous', contiguous(dtype, shape, 3)],
    ['broadcast', { dtype, shape, strides: [1, 0], offset: 0 }],
    ['transposed', { dtype, shape, strides: [1, shape[0]], offset: 0 }],
  ];
}

const UNARY: [UnaryPrim, DType[]][] = [
  ['copy', ['float32', 'int32', 'bool']], ['neg', ['float32', 'float64', 'int32', 'uint8']],
  ['abs', ['float32', 'float64', 'int32', 'uint8']], ['sign', ['float32', 'float64', 'int32']],
  ['recip', ['float32', 'float64']], ['sqrt', ['float32', 'float64']], ['rsqrt', ['float32', 'float64']],
  ['floor', ['float32', 'float64']], ['ceil', ['float32']], ['round', ['float32', 'float64']],
  ['isnan', ['float32', 'float64']], ['not', ['bool']],
];
const BINARY: [BinaryPrim, DType[]][] = [
  ['add', ['float32', 'float64', 'int32', 'uint8']], ['sub', ['float32', 'int32', 'uint8']],
  ['mul', ['float32', 'float64', 'int32', 'uint8']], ['div', ['float32', 'float64']],
  ['maximum', ['float32', 'float64', 'int32', 'uint8']], ['minimum', ['float32', 'int32']],
  ['lt', ['float32', 'float64', 'int32', 'bool']], ['le', ['float32']], ['eq', ['float32', 'int32', 'bool']],
  ['ne', ['float32']], ['and', ['bool']], ['or', ['bool']], ['mod', ['float32']],
];
const EXACT = () => 0;
const ONE_ULP = () => 1;
/** sigmoid's and erf's float32 forms are within 1.48 and 1.72 ulp, the JavaScript engine's within about half of one. */
const TWO_ULP = () => 2;
/** Below 2^20 the library's sin and cos follow the JavaScript engine's steps exactly. */
const TRIG = (x: number) => (Math.abs(x) < 2 ** 20 ? 0 : 1);
/** The math library's functions, with how far each may be from the JavaScript engine (its documented bound). */
const MATH: [UnaryPrim | 'pow', (x: number) => number][] = [
  ['exp', ONE_ULP], ['expm1', EXACT], ['log', EXACT], ['log1p', EXACT], ['tanh', EXACT], ['sigmoid', TWO_ULP],
  ['sin', TRIG], ['cos', TRIG], ['tan', ONE_ULP], ['erf', TWO_ULP], ['erfc', ONE_ULP], ['pow', ONE_ULP],
];
const COMPARISONS: readonly string[] = ['lt', 'le', 'eq', 'ne', 'isnan'];
const SHAPE: [number, number] = [3, 23];

describe.skipIf(!wasmFeatures().simd)('the Wasm renderer gives the JavaScript engine\'s bits', () => {
  it.each(UNARY)('%s', (prim, dtypes) => {
    for (const dtype of dtypes) {
      const outDtype = COMPARISONS.includes(prim) ? 'bool' : dtype;
      for (const [name, x] of layouts(dtype, SHAPE)) {
        const out = contiguous(outDtype, SHAPE, 1);
        check(lowerElementwise(prim, [x], out), [x], out, `${prim} ${dtype} ${name}`);
      }
    }
  });

  it.each(BINARY)('%s', (prim, dtypes) => {
    for (const dtype of dtypes) {
      const outDtype = COMPARISONS.includes(prim) ? 'bool' : dtype;
      const a = contiguous(dtype, SHAPE);
      for (const [name, b] of layouts(dtype, SHAPE)) {
        const out = contiguous(outDtype, SHAPE);
        check(lowerElementwise(prim, [a, b], out), [a, b], out, `${prim} ${dtype} ${name}`);
      }
    }
  });

  it('where, over every dtype', () => {
    for (const dtype of ['float32', 'float64', 'int32', 'uint8', 'bool'] as const) {
      const c = contiguous('bool', SHAPE), a = contiguous(dtype, SHAPE), out = contiguous(dtype, SHAPE);
      for (const [name, b] of layouts(dtype, SHAPE)) {
        check(lowerElementwise('where', [c, a, b], out), [c, a, b], out, `where ${dtype} ${name}`);
      }
    }
  });

  it('casts between dtypes, float-to-integer ones as JavaScript\'s ToInt32', () => {
    const pairs: [DType, DType, WasmProgram['kind']][] = [
      ['float32', 'float64', 'wasm'], ['float64', 'float32', 'wasm'], ['int32', 'float32', 'wasm'],
      ['bool', 'float32', 'wasm'], ['float32', 'bool', 'wasm'], ['int32', 'bool', 'wasm'], ['uint8', 'int32', 'wasm'],
      ['int32', 'uint8', 'wasm'], ['bool', 'int32', 'wasm'], ['uint8', 'float64', 'wasm'], ['float32', 'int32', 'wasm'],
      ['float64', 'int32', 'wasm'], ['float32', 'uint8', 'wasm'], ['float64', 'uint8', 'wasm'],
    ];
    for (const [from, to, kind] of pairs) {
      for (const [name, x] of layouts(from, SHAPE)) {
        const out = contiguous(to, SHAPE);
        check(lowerElementwise('cast', [x], out), [x], out, `cast ${from} -> ${to} ${name}`, kind);
      }
    }
  });

  it('runs a function with no Wasm code yet as JavaScript over the memory, with the same bits', () => {
    const x = contiguous('float64', SHAPE), y = contiguous('float64', SHAPE, 1), out = contiguous('float64', SHAPE, 2);
    check(lowerElementwise('mod', [x, y], out), [x, y], out, 'float64 mod', 'js');
    const x64 = contiguous('float64', SHAPE), out64 = contiguous('float64', SHAPE);
    check(lowerElementwise('exp', [x64], out64), [x64], out64, 'float64 exp', 'js');
  });

  it('computes float32 mod exactly, with the divisor\'s sign, over every pair of edge values and random bits', () => {
    const edges = [
      0, -0, 1, -1, 1.5, -2.5, 3, 7, -7, 0.1, 1e-45, -1e-45, 1.2e-38, 3e38, -3e38, 3.4028234663852886e38, 2 ** 29,
      2 ** 29 + 64, 16777215, 16777217, 1 / 3, Infinity, -Infinity, NaN,
    ].map(Math.fround);
    const bits = new Uint32Array(4096);
    for (let i = 0; i < bits.length; i++) bits[i] = Math.imul(i + 1, 2654435761) ^ Math.imul(i, 40503);
    const random = Array.from(new Float32Array(bits.buffer));
    const a = [...edges.flatMap((e) => edges.map(() => e)), ...random];
    const b = [...edges.flatMap(() => edges), ...random.slice(1), random[0]!];
    const out = contiguous('float32', [a.length]), operand = contiguous('float32', [a.length]);
    const lowered = lowerElementwise('mod', [operand, operand], out);
    const runOn = (backend: Backend<any, any, KernelSpec>): TypedArray => {
      const bufs = [a, b].map((v) => {
        const buf = backend.alloc('float32', v.length);
        backend.write(buf, 'float32', Float32Array.from(v));
        return buf;
      });
      const outBuf = backend.alloc('float32', a.length);
      const args = [outBuf, ...bufs].map((data) => ({ data, offset: 0 }));
      backend.run([{ kernel: backend.compile(lowered.key, lowered.build), args, scalars: [] }]);
      const result = backend.readSync!(outBuf, 'float32', 0, a.length);
      for (const buf of [outBuf, ...bufs]) backend.free(buf);
      return result;
    };
    kinds.length = 0;
    const got = runOn(wasm);
    expect(kinds).toEqual(['wasm']);
    expectSameBits(got, runOn(js), 'mod');
  });

  it.each(MATH)('%s of float32 calls the Wasm math library, lane-wise and in tails', (prim, ulps) => {
    for (const shape of [SHAPE, [5, 203] as [number, number]]) {
      for (const [name, x] of layouts('float32', shape)) {
        const inputs = prim === 'pow' ? [contiguous('float32', shape, 2), x] : [x];
        const out = contiguous('float32', shape, 1);
        checkUlps(lowerElementwise(prim, inputs, out), inputs, out, `${prim} [${shape}] ${name}`, ulps);
      }
    }
  });

  it.each(['prod', 'max', 'min'] as ReducePrim[])('%s over either axis, float32 and float64', (op) => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = contiguous(dtype, [7, 29]);
      for (const axis of [0, 1]) {
        const out = contiguous(dtype, [axis === 0 ? 29 : 7]);
        check(lowerReduce(op, x, [axis], out), [x], out, `${op} ${dtype} axis ${axis}`);
      }
      const all = contiguous(dtype, [1]);
      check(lowerReduce(op, x, [0, 1], all), [x], all, `${op} ${dtype} of everything`);
    }
  });

  it('sums strided rows in JavaScript\'s order (float32: four outputs at a time) and float64 ones', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = contiguous(dtype, [7, 29]), out = contiguous(dtype, [29]);
      check(lowerReduce('sum', x, [0], out), [x], out, `sum ${dtype} axis 0`);
      const y = contiguous(dtype, [3, 5, 11], 4), middle = contiguous(dtype, [3, 11]);
      check(lowerReduce('sum', y, [1], middle), [y], middle, `sum ${dtype} [3,5,11] axis 1`);
      const t: Layout = { dtype, shape: [6, 13], strides: [1, 6], offset: 0 };
      check(lowerReduce('sum', t, [0], contiguous(dtype, [13])), [t], contiguous(dtype, [13]), `sum ${dtype} transposed`);
    }
    const x = contiguous('float64', [7, 29]), out = contiguous('float64', [7]);
    check(lowerReduce('sum', x, [1], out), [x], out, 'sum float64 axis 1');
  });

  it('casts floats past the int32 range to int32 and uint8 modulo 2^32, as JavaScript\'s ToInt32', () => {
    const big = [2 ** 31, 2 ** 31 + 0.5, -(2 ** 31) - 1, 2 ** 32 + 5, -(2 ** 32) - 5, 2 ** 53 - 1, 2 ** 53 + 2, 1e17, -1e17,
      4294967295.9, -0.9, 2 ** 63, -(2 ** 84) - 2 ** 40, 123456789012.75];
    for (const from of ['float32', 'float64'] as const) {
      const input = from === 'float32' ? Float32Array.from(big) : Float64Array.from(big);
      for (const to of ['int32', 'uint8'] as const) {
        const x = contiguous(from, [big.length]), out = contiguous(to, [big.length]);
        const lowered = lowerElementwise('cast', [x], out);
        const cast = (backend: Backend<any, any, KernelSpec>) => {
          const [xb, ob] = [backend.alloc(from, big.length), backend.alloc(to, big.length)];
          backend.write(xb, from, input);
          const args = [{ data: ob, offset: 0 }, { data: xb, offset: 0 }];
          backend.run([{ kernel: backend.compile(lowered.key, lowered.build), args, scalars: [] }]);
          const result = backend.readSync!(ob, to, 0, big.length);
          backend.free(xb);
          backend.free(ob);
          return result;
        };
        expectSameBits(cast(wasm), cast(js), `cast ${from} -> ${to}`);
        if (to === 'int32') expectSameBits(cast(wasm), Int32Array.from(input as Float64Array, (v) => v | 0), `${from} | 0`);
      }
    }
  });

  it('runs a merged kernel with a part that has no Wasm code as modules and JavaScript, in order', () => {
    const f32 = contiguous('float32', [5, 11]), f64 = contiguous('float64', [3]);
    const add = lowerElementwise('add', [f32, f32], f32).build() as MapSpec;
    const pow = lowerElementwise('pow', [f64, f64], f64).build() as MapSpec;
    const mul = lowerElementwise('mul', [f32, f32], f32).build() as MapSpec;
    // The last part reads what the first wrote: order is kept across the module and the JavaScript kernel.
    const spec: MultiSpec = {
      kind: 'multi', args: 8,
      parts: [{ spec: add, args: [0, 1, 2] }, { spec: pow, args: [3, 4, 5] }, { spec: mul, args: [6, 0, 7] }],
    };
    const layouts = [f32, f32, f32, f64, f64, f64, f32, f32];
    const runAll = (backend: Backend<any, any, KernelSpec>) => {
      const bufs = layouts.map((l, a) => {
        const b = backend.alloc(l.dtype, elements(l));
        backend.write(b, l.dtype, values(l.dtype, elements(l), a));
        return b;
      });
      const args = bufs.map((data) => ({ data, offset: 0 }));
      backend.run([{ kernel: backend.compile('mixed', () => spec), args, scalars: [] }]);
      const out = bufs.flatMap((b, a) => Array.from(backend.readSync!(b, layouts[a]!.dtype, 0, elements(layouts[a]!))));
      for (const b of bufs) backend.free(b);
      return out;
    };
    kinds.length = 0;
    const got = runAll(wasm);
    expect(kinds).toEqual(['host']);
    expectSameBits(Float64Array.from(got), Float64Array.from(runAll(js)), 'add, pow float64, mul');
  });

  it('runs integer sums as JavaScript over the memory', () => {
    const x = contiguous('int32', [5, 9]), out = contiguous('int32', [5]);
    check(lowerReduce('sum', x, [1], out), [x], out, 'int32 sum', 'js');
  });

  it('argmax and argmin of float32, float64 and int32, NaN first among equals, over either axis', () => {
    for (const op of ['argmax', 'argmin'] as const) {
      for (const dtype of ['float32', 'float64', 'int32'] as const) {
        const x = contiguous(dtype, [7, 13], 2);
        check(lowerReduce(op, x, [1], contiguous('int32', [7])), [x], contiguous('int32', [7]), `${op} ${dtype} rows`);
        check(lowerReduce(op, x, [0], contiguous('int32', [13])), [x], contiguous('int32', [13]), `${op} ${dtype} columns`);
      }
    }
  });

  it('gathers and scatter-adds by int32 index as Wasm, one element at a time', () => {
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const x = contiguous(dtype, [9, 7]);
      const index = contiguous('int32', [9, 5]);
      const out = contiguous(dtype, [9, 5]);
      checkIndexed(lowerGather(x, index, 1, out), x, index, out, `gather ${dtype}`);
      const target = contiguous(dtype, [9, 7]);
      const src = contiguous(dtype, [9, 5]);
      checkIndexed(lowerScatterAdd(target, index, src, 1), src, index, target, `scatterAdd ${dtype}`);
    }
  });

  it.skipIf(cpuEngine() !== 'wasm')('multiplies float32 matrices in the memory, transposed and batch-broadcast too', () => {
    const f32 = (shape: number[], offset = 0) => contiguous('float32', shape, offset);
    const strided = (shape: number[], strides: number[], offset = 0): Layout => ({ dtype: 'float32', shape, strides, offset });
    const cases: [Layout, Layout, Layout][] = [
      [f32([13, 17]), f32([17, 19]), f32([13, 19])],
      [f32([6, 11, 8], 5), f32([6, 8, 16]), f32([6, 11, 16])],
      [strided([9, 12], [1, 9]), strided([12, 7], [1, 12], 2), f32([9, 7], 4)],
      [strided([3, 4, 5], [0, 5, 1]), f32([3, 5, 8]), f32([3, 4, 8])],
    ];
    for (const [a, b, out] of cases) {
      // The typed-array backend runs float32 matmuls on the same gemm in a process on the Wasm engine.
      check(lowerMatmul(a, b, out), [a, b], out, `matmul [${a.shape}] x [${b.shape}]`, 'host', cpu);
    }
  });
});

/**
 * A matmul's epilogue applied by the Wasm gemm at its stores: which epilogues it takes on
 * each engine (the math functions only where eager computes them with the same code), the
 * product rounded to float32 and then each op rounded in order on odd shapes, k = 0,
 * transposed and batch-broadcast operands, one thread equal to two, and jit equal to eager
 * bit for bit for every fused epilogue (bias, relu, residual, both gelu forms, tanh,
 * sigmoid) on whichever engine the suite runs.
 */
import { describe, expect, it } from 'vitest';
import { epilogueKey, gemmEpilogue } from '../../compiler/codegen/wasm/gemm-epilogue.js';
import { cpuKernel, executePrim, type Operand } from '../../compiler/execute.js';
import { cpu } from '../../compiler/backends.js';
import type { Expr, MatmulSpec } from '../../compiler/kernel.js';
import { lowerMatmul } from '../../compiler/lower.js';
import { evaluatePrim } from '../../compiler/ref/evaluate.js';
import { wasmKernels } from '../../runtime/wasm/engine.js';
import { setNumThreads, threadsReady } from '../../runtime/wasm/threads.js';
import { gelu, jit, noGrad, randn, sigmoid, tanh, type Tensor } from '../../src/index.js';
import { rng, uniform } from '../helpers.js';

const f = Math.fround;

/** A float32 operand of `shape` at `strides` (non-negative) in a buffer of its own. */
function operand(next: () => number, shape: number[], strides: number[]): Operand {
  const reach = shape.reduce((s, d, i) => s + (d - 1) * strides[i]!, 0);
  const size = shape.some((d) => d === 0) ? 0 : reach + 1;
  return { data: Float32Array.from(uniform(next, size, -2, 2)), dtype: 'float32', shape, strides, offset: 0 };
}

function rowMajor(next: () => number, shape: number[]): Operand {
  return operand(next, shape, shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1)));
}

/** relu(acc + bias) + residual, as the fuser writes it: bias arg 3 (stride 0 along m), residual arg 4. */
const biasReluResidual: Expr[] = [
  { op: 'acc' }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'float32' },
  { op: 'literal', value: 0, dtype: 'float32' }, { op: 'prim', prim: 'le', args: [2, 3], dtype: 'float32' },
  { op: 'prim', prim: 'where', args: [4, 3, 2], dtype: 'float32' },
  { op: 'load', arg: 4 }, { op: 'prim', prim: 'add', args: [5, 6], dtype: 'float32' },
];

/** The spec of C = A·B with `body` as its epilogue over `extras`. */
function withEpilogue(a: Operand, b: Operand, out: Operand, extras: MatmulSpec['extras'], body: Expr[]): MatmulSpec {
  const spec = lowerMatmul(a, b, out).build() as MatmulSpec;
  return { ...spec, extras, epilogue: { dtype: 'float32', value: body.length - 1, body } };
}

/** Bits of a float32 array, so NaN and -0 compare exactly. */
const bits = (x: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(x).buffer));

describe('the gemm epilogue', () => {
  it('takes bias, relu and residual on either engine, math functions only where eager uses the same code', () => {
    const next = rng(31);
    const a = rowMajor(next, [6, 5]), b = rowMajor(next, [5, 7]), out = rowMajor(next, [6, 7]);
    const extras: MatmulSpec['extras'] = [
      { dtype: 'float32', batchStrides: [], strides: [0, 1] }, { dtype: 'float32', batchStrides: [], strides: [7, 1] },
    ];
    const plain = withEpilogue(a, b, out, extras, biasReluResidual);
    expect(gemmEpilogue(plain, false)?.broadcast).toEqual([false, false]);
    // One value per row (a column broadcast along n) is read as a splat.
    const perRow = { ...plain, extras: [{ ...extras[0]!, strides: [1, 0] as [number, number] }, extras[1]!] };
    expect(gemmEpilogue(perRow, false)?.broadcast).toEqual([true, false]);
    const withTanh = withEpilogue(a, b, out, extras.slice(0, 1), [
      { op: 'acc' }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'float32' },
      { op: 'prim', prim: 'tanh', args: [2], dtype: 'float32' },
    ]);
    expect(gemmEpilogue(withTanh, false)).toBeUndefined();
    expect(gemmEpilogue(withTanh, true)).toBeDefined();
    // An extra whose columns are not consecutive, and a one-byte one other than a bool mask, stay with the JavaScript map.
    const strided = { ...plain, extras: [extras[0]!, { ...extras[1]!, strides: [14, 2] as [number, number] }] };
    expect(gemmEpilogue(strided, true)).toBeUndefined();
    expect(gemmEpilogue({ ...plain, extras: [extras[0]!, { ...extras[1]!, dtype: 'uint8' }] }, true)).toBeUndefined();
  });

  it('keys each module by its literals exactly, NaN, infinities and -0 included', () => {
    const next = rng(35);
    const a = rowMajor(next, [2, 3]), b = rowMajor(next, [3, 4]), out = rowMajor(next, [2, 4]);
    const keys = [Number.NaN, Infinity, -Infinity, 0, -0, 1].map((value) => {
      const spec = withEpilogue(a, b, out, [], [
        { op: 'acc' }, { op: 'literal', value, dtype: 'float32' },
        { op: 'prim', prim: 'maximum', args: [0, 1], dtype: 'float32' },
      ]);
      return epilogueKey(gemmEpilogue(spec, false)!);
    });
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe.runIf(wasmKernels())('the gemm epilogue on the Wasm gemm', () => {
  it('rounds the product to float32, then each op in order, on odd shapes and operand layouts', () => {
    const next = rng(32);
    const cases: [number, number, number, boolean][] = [
      [1, 1, 1, false], [3, 17, 5, false], [17, 3, 255, true], [9, 257, 2, false], [2, 33, 257, true], [4, 5, 0, false],
      [37, 19, 23, true],
    ];
    for (const [m, n, k, transposed] of cases) {
      const a = rowMajor(next, [m, k]);
      // B transposed: stored n × k and read down its columns.
      const b = transposed ? operand(next, [k, n], [1, k]) : rowMajor(next, [k, n]);
      const bias = rowMajor(next, [n]), residual = rowMajor(next, [m, n]);
      const out = rowMajor(next, [m, n]), product = rowMajor(next, [m, n]);
      const spec = withEpilogue(a, b, out, [
        { dtype: 'float32', batchStrides: [], strides: [0, 1] },
        { dtype: 'float32', batchStrides: [], strides: [n, 1] },
      ], biasReluResidual);
      const lowered = lowerMatmul(a, b, out);
      cpuKernel({ key: `test|epilogue|${lowered.key}`, build: () => spec })(
        out.data, a.data, b.data, bias.data, residual.data, 0, 0, 0, 0, 0,
      );
      executePrim(cpu, 'matmul', {}, [a, b], product);
      const want = Array.from(product.data, (p, i) => {
        const x = f(p + bias.data[i % n]!);
        return f((x <= 0 ? 0 : x) + residual.data[i]!);
      });
      expect(bits(out.data), `${m}x${n}x${k}${transposed ? ', B transposed' : ''}`).toEqual(bits(want));
    }
  });

  it('reads a bias broadcast over the batch and a residual per batch', () => {
    const next = rng(33);
    const [batch, m, n, k] = [3, 7, 21, 9];
    // A shared by every batch (batch stride 0), B one matrix per batch.
    const a = operand(next, [batch, m, k], [0, k, 1]), b = rowMajor(next, [batch, k, n]);
    const bias = rowMajor(next, [n]), residual = rowMajor(next, [batch, m, n]);
    const out = rowMajor(next, [batch, m, n]), product = rowMajor(next, [batch, m, n]);
    const spec = withEpilogue(a, b, out, [
      { dtype: 'float32', batchStrides: [0], strides: [0, 1] },
      { dtype: 'float32', batchStrides: [m * n], strides: [n, 1] },
    ], biasReluResidual);
    const lowered = lowerMatmul(a, b, out);
    cpuKernel({ key: `test|epilogue-batch|${lowered.key}`, build: () => spec })(
      out.data, a.data, b.data, bias.data, residual.data, 0, 0, 0, 0, 0,
    );
    executePrim(cpu, 'matmul', {}, [a, b], product);
    expect(Array.from(product.data)).toEqual(Array.from(evaluatePrim('matmul', {}, [a, b]).data));
    const want = Array.from(product.data, (p, i) => {
      const x = f(p + bias.data[i % n]!);
      return f((x <= 0 ? 0 : x) + residual.data[i]!);
    });
    expect(bits(out.data)).toEqual(bits(want));
  });

  it('gives the same bits on one thread and on two', async () => {
    const next = rng(34);
    const [m, n, k] = [203, 150, 97];
    const a = rowMajor(next, [m, k]), b = operand(next, [k, n], [1, k]);
    const bias = rowMajor(next, [n]), residual = rowMajor(next, [m, n]);
    const run = () => {
      const out = rowMajor(next, [m, n]);
      const spec = withEpilogue(a, b, out, [
        { dtype: 'float32', batchStrides: [], strides: [0, 1] },
        { dtype: 'float32', batchStrides: [], strides: [n, 1] },
      ], biasReluResidual);
      const lowered = lowerMatmul(a, b, out);
      cpuKernel({ key: `test|epilogue-threads|${lowered.key}`, build: () => spec })(
        out.data, a.data, b.data, bias.data, residual.data, 0, 0, 0, 0, 0,
      );
      return bits(out.data);
    };
    setNumThreads(1);
    const one = run();
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    expect(run()).toEqual(one);
  });
});

describe('matmul epilogues under jit', () => {
  const layers: [string, (y: Tensor, bias: Tensor, residual: Tensor) => Tensor][] = [
    ['bias', (y, bias) => y.add(bias)],
    ['bias and relu', (y, bias) => y.add(bias).relu()],
    ['residual', (y, _bias, residual) => y.add(residual)],
    ['bias, relu and residual', (y, bias, residual) => y.add(bias).relu().add(residual)],
    ['gelu, erf form', (y, bias) => gelu(y.add(bias))],
    ['gelu, tanh form', (y, bias) => gelu(y.add(bias), 'tanh')],
    ['tanh', (y, bias) => tanh(y.add(bias))],
    ['sigmoid', (y, bias) => sigmoid(y.add(bias))],
  ];
  for (const [name, epilogue] of layers) {
    it(`${name}: jit equals eager bit for bit`, () => {
      for (const [m, n, k] of [[37, 19, 23], [1, 5, 3], [64, 257, 17]] as const) {
        const x = randn([m, k]), w = randn([n, k]), bias = randn([n]), residual = randn([m, n]);
        const layer = (xs: Tensor) => noGrad(() => epilogue(xs.matmul(w.t()), bias, residual));
        const eager = bits(layer(x).data());
        const fn = jit(layer);
        for (let call = 0; call < 3; call++) expect(bits(fn(x).data()), `${m}x${n}x${k}, call ${call}`).toEqual(eager);
        expect(fn.stats.replays).toBe(1);
      }
    });
  }
});

/**
 * The WebAssembly float32 matmul: bit for bit the float32 sum over k in order (the
 * reference evaluator's accumulator for this engine) on odd sizes, k = 0, transposed,
 * strided, negatively strided and batch-broadcast operands; close to the JavaScript kernel;
 * epilogues applied to the rounded product; jit equal to eager; one thread equal to two.
 */
import { describe, expect, it } from 'vitest';
import { renderJs } from '../../compiler/codegen/js.js';
import { jsHelpers } from '../../compiler/codegen/js-helpers.js';
import { cpuKernel, executePrim, type Operand } from '../../compiler/execute.js';
import { cpu } from '../../compiler/backends.js';
import type { MatmulSpec } from '../../compiler/kernel.js';
import { lowerMatmul } from '../../compiler/lower.js';
import { evaluatePrim, materialize } from '../../compiler/ref/evaluate.js';
import { compileCpuKernel } from '../../runtime/cpu/compile.js';
import { chooseCpuEngine, wasmKernels } from '../../runtime/wasm/engine.js';
import { wasmHeap } from '../../runtime/wasm/memory.js';
import { availableThreads, setNumThreads, threadsReady } from '../../runtime/wasm/threads.js';
import { DeviceError, ValueError } from '../../runtime/errors.js';
import { jit, randn, tensor, type Tensor } from '../../src/index.js';
import { rng, uniform } from '../helpers.js';

const onWasm = wasmKernels();

/** A float32 operand of `shape` whose elements sit at `strides` from `offset` in a larger buffer. */
function operand(next: () => number, shape: number[], strides: number[], offset: number): Operand {
  let hi = offset, lo = offset;
  shape.forEach((d, i) => (strides[i]! > 0 ? (hi += (d - 1) * strides[i]!) : (lo += (d - 1) * strides[i]!)));
  if (lo < 0) throw new Error('test operand: negative reach below the buffer start');
  return { data: Float32Array.from(uniform(next, hi + 1, -2, 2)), dtype: 'float32', shape, strides, offset };
}

function contiguous(shape: number[]): Operand {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1));
  return { data: new Float32Array(shape.reduce((p, x) => p * x, 1)), dtype: 'float32', shape, strides, offset: 0 };
}

/** Runs executePrim(cpu, 'matmul') and checks every bit against the reference evaluator. */
function expectReferenceBits(a: Operand, b: Operand, outShape: number[]): Float32Array {
  const out = contiguous(outShape);
  executePrim(cpu, 'matmul', {}, [a, b], out);
  const want = evaluatePrim('matmul', {}, [a, b]);
  expect(want.shape).toEqual(outShape);
  expect(Array.from(out.data)).toEqual(Array.from(want.data));
  return out.data as Float32Array;
}

describe.runIf(onWasm)('wasm float32 matmul', () => {
  it('equals the float32 sum over k in order on odd sizes, k = 0 and row edges of every width', () => {
    const next = rng(11);
    const sizes = [
      [1, 1, 1], [5, 8, 4], [7, 13, 9], [11, 3, 300], [3, 17, 0], [64, 9, 257], [6, 33, 513], [1, 257, 2],
    ] as const;
    for (const [m, n, k] of sizes) {
      const data = expectReferenceBits(operand(next, [m, k], [k, 1], 0), operand(next, [k, n], [n, 1], 0), [m, n]);
      if (k === 0) expect(data.every((x) => x === 0)).toBe(true);
    }
  });

  it('reads transposed, strided, negatively strided and broadcast operands without copies of their own', () => {
    const next = rng(12);
    const [m, n, k] = [9, 11, 13];
    // A transposed (k-major), B with a row step of 3 and columns walked backwards.
    const a = operand(next, [m, k], [1, m], 0);
    const b = operand(next, [k, n], [3 * n, -1], n - 1);
    expectReferenceBits(a, b, [m, n]);
    // A broadcast along rows (stride 0); B transposed with negative rows.
    expectReferenceBits(operand(next, [m, k], [0, 1], 0), operand(next, [k, n], [-1, k], k - 1), [m, n]);
    // Batches: A broadcast over the batch (batch stride 0), B with its own matrices, one batch reversed.
    const reversed = operand(next, [4, k, n], [-k * n, n, 1], 3 * k * n);
    expectReferenceBits(operand(next, [4, m, k], [0, k, 1], 0), reversed, [4, m, n]);
    const a4 = operand(next, [2, 3, m, k], [3 * m * k, m * k, k, 1], 0);
    expectReferenceBits(a4, operand(next, [2, 3, k, n], [0, k * n, n, 1], 0), [2, 3, m, n]);
  });

  it('stays close to the JavaScript kernel, which sums in float64', () => {
    const next = rng(13);
    const [m, n, k] = [37, 29, 700];
    const a = operand(next, [m, k], [k, 1], 0), b = operand(next, [k, n], [n, 1], 0);
    const out = contiguous([m, n]), js = contiguous([m, n]);
    executePrim(cpu, 'matmul', {}, [a, b], out);
    const spec = lowerMatmul(a, b, js).build();
    compileCpuKernel(renderJs(spec), jsHelpers)(js.data, a.data, b.data, 0, 0, 0);
    // Float32 accumulation error is at most about k·2^-24 times the sum of |a·b| (here ≤ 4k).
    const bound = k * 2 ** -24 * 4 * k;
    for (let i = 0; i < m * n; i++) expect(Math.abs(out.data[i]! - js.data[i]!)).toBeLessThan(bound);
  });

  it('applies an epilogue (bias, scale, residual) to the product rounded to float32', () => {
    const next = rng(14);
    const [m, n, k] = [7, 10, 33];
    const a = operand(next, [m, k], [k, 1], 0), b = operand(next, [k, n], [1, k], 0);
    const bias = operand(next, [n], [1], 0), residual = operand(next, [m, n], [n, 1], 0);
    const out = contiguous([m, n]), product = contiguous([m, n]);
    const lowered = lowerMatmul(a, b, out);
    const spec: MatmulSpec = {
      ...(lowered.build() as MatmulSpec),
      extras: [
        { dtype: 'float32', batchStrides: [], strides: [0, 1] },
        { dtype: 'float32', batchStrides: [], strides: [n, 1] },
      ],
      epilogue: {
        dtype: 'float32', value: 6,
        body: [
          { op: 'acc' }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'float32' },
          { op: 'literal', value: 0.5, dtype: 'float32' }, { op: 'prim', prim: 'mul', args: [2, 3], dtype: 'float32' },
          { op: 'load', arg: 4 }, { op: 'prim', prim: 'add', args: [4, 5], dtype: 'float32' },
        ],
      },
    };
    const kernel = cpuKernel({ key: 'test|epilogue|' + lowered.key, build: () => spec });
    kernel(out.data, a.data, b.data, bias.data, residual.data, 0, 0, 0, 0, 0);
    executePrim(cpu, 'matmul', {}, [a, b], product);
    const f = Math.fround;
    const want = Array.from(product.data, (p, i) => f(f(f(p + bias.data[i % n]!) * 0.5) + residual.data[i]!));
    expect(Array.from(out.data)).toEqual(want);
  });

  it('gives jit the bits of eager for a linear layer with bias and relu, and its backward', () => {
    const x = randn([33, 70]), w = randn([20, 70], { requiresGrad: true }), bias = randn([20], { requiresGrad: true });
    const layer = (xs: Tensor) => {
      const y = xs.matmul(w.t()).add(bias).relu();
      y.sum().backward();
      return y.detach();
    };
    const eager = layer(x);
    const eagerGrad = w.grad!.data().slice();
    w.grad = null;
    bias.grad = null;
    const fn = jit(layer);
    for (let call = 0; call < 3; call++) {
      w.grad = null;
      bias.grad = null;
      expect(Array.from(fn(x).data()), `call ${call}`).toEqual(Array.from(eager.data()));
      expect(Array.from(w.grad!.data()), `call ${call}`).toEqual(Array.from(eagerGrad));
    }
    expect(fn.stats.replays).toBe(1);
  });

  it('leaves the Wasm memory flat: every call frees what it placed there', () => {
    const next = rng(16);
    const run = (m: number, n: number, k: number) => {
      executePrim(cpu, 'matmul', {}, [operand(next, [m, k], [k, 1], 0), operand(next, [k, n], [n, 1], 0)], contiguous([m, n]));
    };
    for (const [m, n, k] of [[40, 30, 20], [3, 5, 7], [120, 64, 33]]) run(m!, n!, k!);
    // Tensors live in the same memory (made by other suites in this file): flat is what is asserted.
    const before = wasmHeap().stats();
    for (let i = 0; i < 300; i++) run(1 + (i % 40) * 3, 1 + (i % 7) * 9, 1 + (i % 11) * 3);
    expect(wasmHeap().stats()).toEqual(before);
  });

  it('gives the same bits on one thread and on two', async () => {
    const next = rng(15);
    const [m, n, k] = [203, 150, 97];
    const a = operand(next, [m, k], [k, 1], 0), b = operand(next, [k, n], [1, k], 0);
    setNumThreads(1);
    const one = contiguous([m, n]);
    executePrim(cpu, 'matmul', {}, [a, b], one);
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    expect(availableThreads()).toBe(2);
    const two = contiguous([m, n]);
    executePrim(cpu, 'matmul', {}, [a, b], two);
    expect(Array.from(two.data)).toEqual(Array.from(one.data));
    expect(Array.from(two.data)).toEqual(Array.from(evaluatePrim('matmul', {}, [a, b]).data));
    // A product split over threads still has each element's k order: a tensor round trip agrees.
    const t = tensor(materialize(a).data, { shape: [m, k] }).matmul(tensor(materialize(b).data, { shape: [k, n] }));
    expect(Array.from(t.data())).toEqual(Array.from(one.data));
  });
});

describe('engine and thread settings', () => {
  it('KILN_CPU chooses the engine: Wasm by default, JS without SIMD; wasm without SIMD and unknown names throw', () => {
    expect(chooseCpuEngine(undefined, true)).toMatchObject({ engine: 'wasm', wasmKernels: true });
    expect(chooseCpuEngine('', true)).toMatchObject({ engine: 'wasm', wasmKernels: true });
    expect(chooseCpuEngine(undefined, false)).toMatchObject({ engine: 'js', wasmKernels: false });
    expect(chooseCpuEngine('js', true)).toMatchObject({ engine: 'js', wasmKernels: false });
    expect(chooseCpuEngine('wasm', true)).toMatchObject({ engine: 'wasm', wasmKernels: true });
    expect(chooseCpuEngine(undefined, true).reason).toMatch(/default: this runtime has WebAssembly SIMD/);
    expect(chooseCpuEngine(undefined, false).reason).toMatch(/fallback: this runtime has no WebAssembly SIMD/);
    expect(chooseCpuEngine('js', true).reason).toMatch(/^KILN_CPU=js/);
    expect(() => chooseCpuEngine('wasm', false)).toThrow(DeviceError);
    expect(() => chooseCpuEngine('gpu', true)).toThrow(/KILN_CPU: expected 'wasm' or 'js' \(got 'gpu'\)/);
  });

  it('setNumThreads takes a positive integer', () => {
    expect(() => setNumThreads(0)).toThrow(ValueError);
    expect(() => setNumThreads(1.5)).toThrow(/setNumThreads: thread count must be an integer/);
  });
});

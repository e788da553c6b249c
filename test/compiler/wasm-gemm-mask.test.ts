/**
 * A bool mask read by the Wasm gemm's epilogue (a ReLU's backward: dH = where(h ≤ 0, 0, dY·W)):
 * the gemm takes it, four bytes widened to lanes or one byte splat, and the fused product has
 * the bits of the matmul followed by the unfused where, on odd shapes (column tails, several
 * panels, bytes at each panel's offset), broadcast masks, one thread and two.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gemmEpilogue } from '../../compiler/codegen/wasm/gemm-epilogue.js';
import type { Expr, MatmulSpec } from '../../compiler/kernel.js';
import { lowerMatmul } from '../../compiler/lower.js';
import type { Operand } from '../../compiler/execute.js';
import { wasmKernels } from '../../runtime/wasm/engine.js';
import { getNumThreads, setNumThreads, threadsReady } from '../../runtime/wasm/threads.js';
import { jit, randn, type Tensor } from '../../src/index.js';

const bits = (t: Tensor) => Array.from(new Uint32Array(t.contiguous().data<'float32'>().slice().buffer));

/** where(mask, 0, acc), the mask a bool extra (arg 3). */
const masked: Expr[] = [
  { op: 'acc' }, { op: 'load', arg: 3 }, { op: 'literal', value: 0, dtype: 'float32' },
  { op: 'prim', prim: 'where', args: [1, 2, 0], dtype: 'float32' },
];

function rowMajor(shape: number[]): Operand {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1));
  return { data: new Float32Array(shape.reduce((p, x) => p * x, 1)), dtype: 'float32', shape, strides, offset: 0 };
}

describe('a bool mask in the gemm epilogue', () => {
  it('is read by the gemm, across n or broadcast along it', () => {
    const spec = lowerMatmul(rowMajor([6, 5]), rowMajor([5, 7]), rowMajor([6, 7])).build() as MatmulSpec;
    const mask = (strides: [number, number]): MatmulSpec => ({
      ...spec, extras: [{ dtype: 'bool', batchStrides: [], strides }],
      epilogue: { dtype: 'float32', value: 3, body: masked },
    });
    expect(gemmEpilogue(mask([7, 1]), true)?.dtypes).toEqual(['float32', 'float32', 'float32', 'bool']);
    expect(gemmEpilogue(mask([1, 0]), true)?.broadcast).toEqual([true]);
    expect(gemmEpilogue(mask([14, 2]), true)).toBeUndefined();
  });
});

describe.runIf(wasmKernels())('a ReLU backward through the gemm epilogue', () => {
  const initial = getNumThreads();
  afterEach(() => setNumThreads(initial));

  /** Two linear layers with a ReLU between: the first layer's input gradient is where(h ≤ 0, 0, dY·W₂). */
  function twoLayers(m: number, k: number, hidden: number, n: number) {
    const w1 = randn([hidden, k], { requiresGrad: true }), w2 = randn([n, hidden], { requiresGrad: true });
    const x = randn([m, k], { requiresGrad: true });
    const step = (xs: Tensor) => {
      xs.grad = null;
      w1.grad = null;
      w2.grad = null;
      xs.matmul(w1.t()).relu().matmul(w2.t()).sum().backward();
      return [xs.grad!, w1.grad!];
    };
    return { x, step };
  }

  it('gives jit the bits of eager (matmul, then where) on odd shapes', () => {
    for (const [m, k, hidden, n] of [[37, 23, 19, 5], [1, 3, 33, 2], [64, 17, 257, 11], [128, 40, 70, 10]] as const) {
      const { x, step } = twoLayers(m, k, hidden, n);
      const eager = step(x).map(bits);
      const fn = jit(step);
      for (let call = 0; call < 3; call++) {
        expect(fn(x).map(bits), `${m}x${k}x${hidden}x${n}, call ${call}`).toEqual(eager);
      }
      expect(fn.stats.replays).toBe(1);
    }
  });

  it('gives the same bits on one thread and on two', async () => {
    const { x, step } = twoLayers(128, 96, 256, 64);
    const fn = jit(step);
    setNumThreads(1);
    fn(x);
    const one = fn(x).map(bits);
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    expect(fn(x).map(bits)).toEqual(one);
  });
});

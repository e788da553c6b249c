/**
 * A batched matmul on the Wasm engine as one gemm call over every product's tiles: each
 * product has the bits of the same matmul alone, with A or B shared by the batch, transposed,
 * C written in place or through scratch, several batch dims, on one thread and on two; where
 * the products do not lie at one stride apart it runs a call per product, with the same bits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { uniformStride } from '../../compiler/wasm-heap-matmul.js';
import { wasmKernels } from '../../runtime/wasm/engine.js';
import { wasmHeap } from '../../runtime/wasm/memory.js';
import { getNumThreads, setNumThreads, threadsReady } from '../../runtime/wasm/threads.js';
import { jit, matmul, nn, randn, type Tensor } from '../../src/index.js';

const bits = (t: Tensor) => Array.from(new Uint32Array(t.contiguous().data<'float32'>().slice().buffer));

/** Each product of a batched a·b (batch dims flattened) computed alone. */
function oneByOne(a: Tensor, b: Tensor): number[] {
  const batch = a.shape.length > 2 ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const count = batch.reduce((p, d) => p * d, 1);
  const flat = (x: Tensor) => (x.ndim > 2 ? x.reshape([count, ...x.shape.slice(-2)]) : undefined);
  const [fa, fb] = [flat(a), flat(b)];
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(...bits(matmul(fa ? fa.select(0, i) : a, fb ? fb.select(0, i) : b)));
  return out;
}

describe('uniformStride', () => {
  it('gives the one stride of a batch walked in order, or undefined', () => {
    expect(uniformStride([4], [7])).toBe(7);
    expect(uniformStride([2, 3], [30, 10])).toBe(10);
    expect(uniformStride([2, 3], [0, 0])).toBe(0);
    expect(uniformStride([2, 1, 3], [30, 99, 10])).toBe(10);
    expect(uniformStride([2, 3], [10, 30])).toBeUndefined();
    expect(uniformStride([2, 3], [0, 10])).toBeUndefined();
  });
});

describe.runIf(wasmKernels())('a batched matmul as one gemm call', () => {
  const initial = getNumThreads();
  afterEach(() => setNumThreads(initial));

  const cases: [string, () => [Tensor, Tensor]][] = [
    ['A shared, C through scratch (n not whole panels)', () => [randn([16, 72]), randn([9, 72, 121])]],
    ['A shared, C in place', () => [randn([8, 9]), randn([5, 9, 32])]],
    ['B shared and transposed', () => [randn([6, 13, 40]), randn([24, 40]).t()]],
    ['both per product, A transposed', () => [randn([7, 30, 11]).transpose(1, 2), randn([7, 30, 17])]],
    ['two batch dims', () => [randn([2, 3, 5, 8]), randn([2, 3, 8, 20])]],
    ['products not at one stride (a permuted batch)', () => [randn([3, 2, 5, 8]).transpose(0, 1), randn([2, 3, 8, 4])]],
  ];
  for (const [name, make] of cases) {
    it(`${name}: each product has the bits of the matmul alone, at 1 and 2 threads`, async () => {
      const [a, b] = make();
      setNumThreads(1);
      const want = oneByOne(a, b);
      expect(bits(matmul(a, b))).toEqual(want);
      setNumThreads(2);
      expect(await threadsReady()).toBe(2);
      expect(bits(matmul(a, b))).toEqual(want);
    });
  }

  it('gives jit the bits of eager for a convolution and its gradients, and leaves memory flat', () => {
    const x = randn([16, 3, 12, 12]), w = randn([8, 3, 3, 3], { requiresGrad: true });
    const step = (xs: Tensor) => {
      w.grad = null;
      const y = nn.conv2d(xs, w);
      y.square().sum().backward();
      return [y.detach(), w.grad!];
    };
    const eager = step(x).map(bits);
    const fn = jit(step);
    for (let call = 0; call < 3; call++) expect(fn(x).map(bits), `call ${call}`).toEqual(eager);
    const heap = wasmHeap();
    const before = heap.stats().liveBytes;
    for (let i = 0; i < 5; i++) for (const t of fn(x)) t.dispose();
    expect(heap.stats().liveBytes).toBeLessThanOrEqual(before);
  });
});

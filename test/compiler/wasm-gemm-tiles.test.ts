/**
 * The gemm module's tiles: every tile grid (rows by panels, ranges of every width, the last
 * ones short) covers each element of C exactly once with the same bits as one tile of all of
 * it, on one thread (which takes every tile) and split over two, over one product or a batch
 * of them; and the step's products split over two threads by rows and panels give the bits
 * of one thread.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gemmKernel, KC, MC, MR, multiply, NR, packB } from '../../compiler/wasm-matmul.js';
import { wasmKernels } from '../../runtime/wasm/engine.js';
import { wasmHeap } from '../../runtime/wasm/memory.js';
import { ROW_CLAIM } from '../../runtime/wasm/split.js';
import { getNumThreads, runJobs, setNumThreads, threadsReady } from '../../runtime/wasm/threads.js';
import { matmul, randn, type Tensor } from '../../src/index.js';
import { rng, uniform } from '../helpers.js';

const bitsOf = (t: Tensor) => Array.from(new Uint32Array(t.contiguous().data<'float32'>().slice().buffer));

/** C of A (m × k) · B (k × n) through the gemm module with tiles of `rows` by `panels`, split over `jobs` jobs. */
function tiled(
  a: Float32Array, b: Float32Array, m: number, n: number, k: number, rows: number, panels: number, jobs: number,
): number[] {
  const heap = wasmHeap(), count = Math.ceil(n / NR), ldc = count * NR;
  const pa = heap.alloc(4 * m * k), pb = heap.alloc(4 * ldc * k), pc = heap.alloc(4 * m * ldc);
  try {
    const f32 = heap.f32();
    f32.set(a, pa >>> 2);
    packB(f32, pb >>> 2, b, 0, k, n, n, 1);
    // Every element is written by exactly one tile: poison shows one that none wrote.
    f32.fill(NaN, pc >>> 2, (pc >>> 2) + m * ldc);
    heap.elements('int32')[ROW_CLAIM / 4] = 0;
    const job = [pa, 4 * k, pb, pc, 4 * ldc, m, count, k, KC, MC, ROW_CLAIM, rows, panels, 1, 0, 0, 0];
    runJobs(gemmKernel(), Array.from({ length: jobs }, () => job));
    const out = new Uint32Array(heap.f32().buffer, pc, m * ldc);
    return Array.from({ length: m * n }, (_, i) => out[Math.floor(i / n) * ldc + (i % n)]!);
  } finally {
    heap.free(pa);
    heap.free(pb);
    heap.free(pc);
  }
}

describe.runIf(wasmKernels())('gemm tiles', () => {
  const initial = getNumThreads();
  afterEach(() => setNumThreads(initial));

  it('cover every element once with the bits of one tile, whatever the grid and the thread count', async () => {
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    const next = rng(21);
    for (const [m, n, k] of [[13, 70, 600], [128, 40, 9], [5, 16, 1]] as const) {
      const a = Float32Array.from(uniform(next, m * k, -2, 2)), b = Float32Array.from(uniform(next, k * n, -2, 2));
      const whole = tiled(a, b, m, n, k, m, Math.ceil(n / NR), 1);
      expect(whole.some((x) => Number.isNaN(new Float32Array(new Uint32Array([x]).buffer)[0]))).toBe(false);
      for (const [rows, panels] of [[MR, 1], [3 * MR, 2], [64, 3], [m + 1, 1], [MR, 5]] as const) {
        for (const jobs of [1, 2]) {
          expect(tiled(a, b, m, n, k, rows, panels, jobs), `${m}x${n}x${k}: ${rows} by ${panels}, ${jobs} jobs`)
            .toEqual(whole);
        }
      }
    }
  });

  it('takes the tiles of every product of a batch, A shared, with the bits of each product alone', async () => {
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    const next = rng(22);
    const [m, n, k, count] = [9, 40, 21, 5];
    const heap = wasmHeap(), panels = Math.ceil(n / NR), ldc = panels * NR;
    const a = Float32Array.from(uniform(next, m * k, -2, 2));
    const bs = Array.from({ length: count }, () => Float32Array.from(uniform(next, k * n, -2, 2)));
    const pa = heap.alloc(4 * m * k), pb = heap.alloc(4 * count * ldc * k), pc = heap.alloc(4 * count * m * ldc);
    try {
      heap.f32().set(a, pa >>> 2);
      bs.forEach((b, i) => packB(heap.f32(), (pb >>> 2) + i * ldc * k, b, 0, k, n, n, 1));
      for (const [rows, across, jobs] of [[m, panels, 1], [MR, 1, 2], [4, 2, 2]] as const) {
        heap.f32().fill(NaN, pc >>> 2, (pc >>> 2) + count * m * ldc);
        heap.elements('int32')[ROW_CLAIM / 4] = 0;
        const job = [pa, 4 * k, pb, pc, 4 * ldc, m, panels, k, KC, MC, ROW_CLAIM, rows, across];
        job.push(count, 0, 4 * ldc * k, 4 * m * ldc);
        runJobs(gemmKernel(), Array.from({ length: jobs }, () => job));
        const out = new Uint32Array(heap.f32().buffer, pc, count * m * ldc);
        bs.forEach((b, i) => {
          const got = Array.from({ length: m * n }, (_, e) => out[i * m * ldc + Math.floor(e / n) * ldc + (e % n)]!);
          expect(got, `product ${i}, ${rows} rows by ${across} panels`).toEqual(tiled(a, b, m, n, k, m, panels, 1));
        });
      }
    } finally {
      heap.free(pa);
      heap.free(pb);
      heap.free(pc);
    }
  });

  it("splits the step's products by rows and panels with the bits of one thread", async () => {
    const x = randn([128, 784]), w = randn([256, 784]), g = randn([128, 256]);
    const products = () => [matmul(x, w.t()), matmul(g.t(), x), matmul(g, w)].map((t) => {
      const bits = bitsOf(t);
      t.dispose();
      return bits;
    });
    setNumThreads(1);
    const one = products();
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    expect(products()).toEqual(one);
    for (const t of [x, w, g]) t.dispose();
  });

  it('runs a product below the split threshold on the calling thread', () => {
    // 128 × 256 × 10 is 2^18 multiply-adds: waking a worker would cost more than it saves.
    const heap = wasmHeap();
    const a = heap.alloc(4 * 128 * 256), b = heap.alloc(4 * 256 * NR), c = heap.alloc(4 * 128 * NR);
    try {
      setNumThreads(2);
      multiply(gemmKernel(), a, 4 * 256, b, c, 128, 10, 256, 1);
      // One tile: the claim count ends at 2 (the tile, then the take that found none left).
      expect(heap.elements('int32')[ROW_CLAIM / 4]).toBe(2);
    } finally {
      heap.free(a);
      heap.free(b);
      heap.free(c);
    }
  });
});

/**
 * The Wasm transpose that packs transposed matmul operands: every bit moved to its place on
 * edges of every width (blocks of 4 × 4 and the elements past them), rows padded apart, and
 * nothing written outside the destination; the row copy that takes products out of the
 * gemm's panels, likewise; matmuls with transposed operands bitwise equal
 * to the same products of contiguous copies, on one thread and on two.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { transposeKernel } from '../../compiler/wasm-heap-matmul.js';
import { wasmKernels } from '../../runtime/wasm/engine.js';
import { wasmHeap } from '../../runtime/wasm/memory.js';
import { getNumThreads, setNumThreads, threadsReady } from '../../runtime/wasm/threads.js';
import { matmul, randn, type Tensor } from '../../src/index.js';
import { rng } from '../helpers.js';

const bitsOf = (t: Tensor) => Array.from(new Uint32Array(t.contiguous().data<'float32'>().slice().buffer));

describe.runIf(wasmKernels())('the Wasm transpose', () => {
  it('moves every element bit for bit on edges of every width, and writes nothing else', () => {
    const heap = wasmHeap(), next = rng(5);
    for (const [rows, cols] of [[0, 3], [1, 1], [3, 5], [4, 4], [5, 9], [8, 7], [13, 16], [16, 30]] as const) {
      const lds = cols + 3, ldd = rows + 2;
      const src = heap.alloc(4 * rows * lds), dst = heap.alloc(4 * cols * ldd + 4);
      try {
        const words = heap.elements('int32') as Int32Array;
        // Random bit patterns: NaN payloads and -0 included.
        for (let i = 0; i < rows * lds; i++) words[src / 4 + i] = Math.floor(next() * 2 ** 32) | 0;
        words.fill(0x7fc00bad, dst / 4, dst / 4 + cols * ldd + 1);
        transposeKernel().exports.transpose!(src, 4 * lds, dst, 4 * ldd, rows, cols);
        const out = heap.elements('int32') as Int32Array;
        for (let j = 0; j < cols; j++) {
          for (let i = 0; i < ldd; i++) {
            const want = i < rows ? out[src / 4 + i * lds + j] : 0x7fc00bad;
            expect(out[dst / 4 + j * ldd + i], `rows ${rows}, cols ${cols}: [${j}][${i}]`).toBe(want);
          }
        }
        expect(out[dst / 4 + cols * ldd]).toBe(0x7fc00bad);
      } finally {
        heap.free(src);
        heap.free(dst);
      }
    }
  });

  it('copies rows bit for bit on widths of every remainder, and writes nothing else', () => {
    const heap = wasmHeap(), next = rng(6);
    for (const [rows, cols] of [[0, 3], [1, 1], [3, 5], [4, 8], [5, 121], [2, 16]] as const) {
      const lds = cols + 7, ldd = cols + 2;
      const src = heap.alloc(4 * rows * lds + 4), dst = heap.alloc(4 * rows * ldd + 4);
      try {
        const words = heap.elements('int32') as Int32Array;
        for (let i = 0; i < rows * lds; i++) words[src / 4 + i] = Math.floor(next() * 2 ** 32) | 0;
        words.fill(0x7fc00bad, dst / 4, dst / 4 + rows * ldd + 1);
        transposeKernel().exports.copy!(src, 4 * lds, dst, 4 * ldd, rows, cols);
        const out = heap.elements('int32') as Int32Array;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < ldd; j++) {
            const want = j < cols ? out[src / 4 + i * lds + j] : 0x7fc00bad;
            expect(out[dst / 4 + i * ldd + j], `rows ${rows}, cols ${cols}: [${i}][${j}]`).toBe(want);
          }
        }
        expect(out[dst / 4 + rows * ldd]).toBe(0x7fc00bad);
      } finally {
        heap.free(src);
        heap.free(dst);
      }
    }
  });
});

describe('matmuls with transposed operands', () => {
  const threads = getNumThreads();
  afterEach(() => setNumThreads(threads));

  it('equal the products of contiguous copies bit for bit, on one thread and on two', async () => {
    await threadsReady();
    for (const n of [1, 2]) {
      setNumThreads(n);
      for (const [m, k, cols] of [[128, 784, 256], [7, 13, 37], [33, 5, 16], [256, 128, 10]] as const) {
        const a = randn([m, k]), w = randn([cols, k]), g = randn([k, m]), b = randn([k, cols]);
        expect(bitsOf(matmul(a, w.t()))).toEqual(bitsOf(matmul(a, w.t().contiguous())));
        expect(bitsOf(matmul(g.t(), b))).toEqual(bitsOf(matmul(g.t().contiguous(), b)));
      }
    }
  }, 120_000);
});

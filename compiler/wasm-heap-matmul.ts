/**
 * float32 matmul on the WebAssembly engine's backend, where operands already live in the
 * Wasm memory: the gemm reads A in place when its rows are contiguous (any row stride) and
 * writes C straight into the output when no epilogue follows and n fills whole panels; only
 * B is always packed (into the gemm's column panels), and A or C go through scratch when
 * their layout needs it. Transposed operands (Wᵀ as B in a linear layer's forward, dYᵀ as A
 * in its weight gradient) are packed by the Wasm transpose (./codegen/wasm/transpose.ts):
 * the JavaScript loops took 8–10% of an MLP 784-256-256-10 training step. The product is the
 * same gemm as compiler/wasm-matmul.ts's, so each element is the same sum in the same order
 * on both paths, and an epilogue runs over the product already rounded to float32, as the
 * unfused matmul's output is: in the gemm, block by block, wherever the Wasm map kernels
 * have code for it. A batch without an epilogue that splits over threads runs as one gemm
 * call over all its products, so the threads share them; otherwise a call per product.
 */
import { itemSize, type DType } from '../runtime/dtype.js';
import type { WasmProgram } from '../runtime/wasm/backend.js';
import { MAX_PAGES, wasmHeap } from '../runtime/wasm/memory.js';
import { wasmKernel, type WasmKernel } from '../runtime/wasm/modules.js';
import type { MatmulSpec } from './kernel.js';
import { wasmJsHelpers } from './codegen/wasm/js-math.js';
import { gemmEpilogue } from './codegen/wasm/gemm-epilogue.js';
import { renderTranspose } from './codegen/wasm/transpose.js';
import {
  epilogueKernel, epilogueOnly, gemmKernel, gemmThreads, MR, multiply, nextBatch, NR, packA, packB, packHeapB,
  type EpilogueOperands,
} from './wasm-matmul.js';

/** The host kernel of a float32 matmul spec: (addresses, offsets) of C, A, B and the epilogue's extras. */
export function heapMatmul(spec: MatmulSpec): WasmProgram {
  const { m, n, k } = spec;
  const panels = Math.ceil(n / NR), ldc = panels * NR;
  const [sam, sak] = spec.aStrides, [sbk, sbn] = spec.bStrides;
  // Applied by the gemm at its stores where it has Wasm code (the map kernels' code, so an
  // activation rounds as it does alone); else a JavaScript map on the Wasm kernels' math.
  const fused = gemmEpilogue(spec, true);
  const epilogue = spec.epilogue === null || fused !== undefined
    ? undefined : epilogueKernel(spec, ldc, wasmJsHelpers());
  const dtypes: DType[] = [spec.epilogue?.dtype ?? 'float32', 'float32', 'float32', ...spec.extras.map((x) => x.dtype)];
  const nArgs = dtypes.length;
  const batchStrides = [...spec.batchStrides, ...spec.extras.map((x) => x.batchStrides)];
  const batchSize = spec.batch.reduce((p, d) => p * d, 1);
  const sameA = spec.batchStrides[1].every((s) => s === 0), sameB = spec.batchStrides[2].every((s) => s === 0);
  // A row-major with any positive row stride is what the gemm reads: no copy.
  const directA = sak === 1 && sam > 0;
  const directC = spec.epilogue === null && ldc === n;
  // Operands stored transposed, read along their contiguous dimension by the Wasm transpose.
  const transposedA = !directA && sam === 1 && sak > 0, transposedB = sbn !== 1 && sbk === 1 && sbn > 0;
  // A's and B's packed copies for the product at batch position `at` (element indices), each
  // where a destination is given (A only where the gemm does not read it in place).
  const packOperands = (
    gemm: WasmKernel, f32: Float32Array, aDst: number | undefined, bDst: number | undefined, at: readonly number[],
  ) => {
    if (aDst !== undefined && transposedA) transposeKernel().exports.transpose!(4 * at[1]!, 4 * sak, aDst, 4 * k, k, m);
    else if (aDst !== undefined && !directA) packA(f32, aDst >>> 2, f32, at[1]!, m, k, sam, sak);
    if (bDst === undefined) return;
    if (sbn === 1) packHeapB(gemm, f32, bDst, at[2]!, k, n, sbk);
    else if (transposedB) packTransposedB(f32, bDst, at[2]!, k, n, sbn);
    else packB(f32, bDst >>> 2, f32, at[2]!, k, n, sbk, sbn);
  };
  // A batch without an epilogue whose products lie at one stride apart runs as one gemm call
  // over every product's tiles where threads are to share them (a convolution's products are
  // each too small to split: 64 of 16 × 72 × 121 in the MNIST CNN's second layer). On one
  // thread a call per product stays: each product's packed B and C are still in cache when the
  // gemm reads them and when C is copied out, where packing every product first left them
  // cold (four of the CNN's batched matmuls, one thread, C still copied out by copyWithin:
  // 4.24 ms of CPU time in one call against 3.86 a call per product, a loaded 2-core machine).
  const strides = spec.batchStrides.map((x) => uniformStride(spec.batch, x));
  const together = batchSize > 1 && k > 0 && spec.epilogue === null && strides.every((x) => x !== undefined)
    && 4 * batchSize * (m * k + ldc * k + m * ldc) <= MAX_BATCH_BYTES;
  const run = (addresses: readonly number[], offsets: readonly number[]): void => {
    if (m === 0 || n === 0) return;
    if (together && gemmThreads(batchSize * m * n * k, batchSize * Math.ceil(m / MR)) > 1) {
      return runTogether(addresses, offsets);
    }
    const heap = wasmHeap();
    const gemm = gemmKernel(fused);
    const aPtr = directA ? 0 : heap.alloc(4 * m * k);
    const bPtr = heap.alloc(4 * ldc * k);
    const cPtr = directC ? 0 : heap.alloc(4 * m * ldc);
    try {
      // Views are taken after the allocations above, which may have grown the memory.
      const f32 = heap.f32();
      // Element index of each arg's current batch position in a view of its dtype.
      const at = offsets.map((o, x) => addresses[x]! / itemSize(dtypes[x]!) + o);
      const index = spec.batch.map(() => 0);
      for (let t = 0; t < batchSize; t++) {
        packOperands(gemm, f32, t === 0 || !sameA ? aPtr : undefined, t === 0 || !sameB ? bPtr : undefined, at);
        const a = directA ? 4 * at[1]! : aPtr, c = directC ? 4 * at[0]! : cPtr;
        // Byte addresses and row strides of the output and the extras at this batch position.
        const operands: EpilogueOperands | undefined = fused && {
          out: 4 * at[0]!, ldo: 4 * n,
          extras: spec.extras.map((x, i) => {
            const size = itemSize(x.dtype);
            return [size * at[3 + i]!, size * x.strides[0]] as const;
          }),
        };
        if (k === 0) f32.fill(0, c >>> 2, (c >>> 2) + m * ldc);
        if (k === 0 && operands !== undefined) epilogueOnly(gemm, c, 4 * ldc, m, n, operands);
        else if (k !== 0) multiply(gemm, a, directA ? 4 * sam : 4 * k, bPtr, c, m, n, k, panels, operands);
        if (epilogue !== undefined) {
          const views = dtypes.map((d) => heap.elements(d));
          epilogue(views[0], ...views.slice(3), f32, at[0], ...at.slice(3), cPtr >>> 2);
        } else if (!directC && fused === undefined) {
          transposeKernel().exports.copy!(cPtr, 4 * ldc, 4 * at[0]!, 4 * n, m, n);
        }
        nextBatch(spec.batch, batchStrides, index, at);
      }
    } finally {
      if (!directA) heap.free(aPtr);
      heap.free(bPtr);
      if (!directC) heap.free(cPtr);
    }
  };
  // Every product's operands packed side by side, one gemm call over all of them, then C
  // copied out where the gemm could not write it in place.
  const runTogether = (addresses: readonly number[], offsets: readonly number[]): void => {
    const heap = wasmHeap();
    const gemm = gemmKernel();
    const [sC, sA, sB] = strides as number[];
    const aBytes = 4 * m * k, bBytes = 4 * ldc * k, cBytes = 4 * m * ldc;
    const aPtr = directA ? 0 : heap.alloc(aBytes * (sameA ? 1 : batchSize));
    const bPtr = heap.alloc(bBytes * (sameB ? 1 : batchSize));
    const cPtr = directC ? 0 : heap.alloc(cBytes * batchSize);
    try {
      const f32 = heap.f32();
      const at = offsets.map((o, x) => addresses[x]! / itemSize(dtypes[x]!) + o);
      const start = at.slice();
      const index = spec.batch.map(() => 0);
      for (let t = 0; t < batchSize && (t === 0 || !sameA || !sameB); t++) {
        const aDst = t === 0 || !sameA ? aPtr + t * aBytes : undefined;
        packOperands(gemm, f32, aDst, t === 0 || !sameB ? bPtr + t * bBytes : undefined, at);
        nextBatch(spec.batch, batchStrides, index, at);
      }
      const batch = {
        count: batchSize, sa: directA ? 4 * sA! : sameA ? 0 : aBytes, sb: sameB ? 0 : bBytes,
        sc: directC ? 4 * sC! : cBytes,
      };
      const [a, lda] = directA ? [4 * start[1]!, 4 * sam] : [aPtr, 4 * k];
      multiply(gemm, a, lda, bPtr, directC ? 4 * start[0]! : cPtr, m, n, k, panels, undefined, batch);
      if (directC) return;
      const { copy } = transposeKernel().exports;
      for (let t = 0, out = start[0]!, from = cPtr; t < batchSize; t++, out += sC!, from += cBytes) {
        copy!(from, 4 * ldc, 4 * out, 4 * n, m, n);
      }
    } finally {
      if (!directA) heap.free(aPtr);
      heap.free(bPtr);
      if (!directC) heap.free(cPtr);
    }
  };
  return { kind: 'host', run };
}

/** Bytes a batched matmul may place in the Wasm memory to run as one gemm call (else a call per product). */
const MAX_BATCH_BYTES = 2 ** 26;

/**
 * The one stride (elements) between consecutive products of a batch walked in order, where
 * its dims lie at uniform distances (a size-1 dim, which never moves, at any); undefined
 * where they do not.
 */
export function uniformStride(batch: readonly number[], strides: readonly number[]): number | undefined {
  let stride: number | undefined;
  for (let d = batch.length - 1, step = 1; d >= 0; step *= batch[d]!, d--) {
    if (batch[d] === 1) continue;
    stride ??= strides[d]! / step;
    if (strides[d] !== stride * step) return undefined;
  }
  return stride ?? 0;
}

/** The transpose module over the heap's memory. */
export function transposeKernel(): WasmKernel {
  const heap = wasmHeap();
  const memory = heap.shared ? { initial: 1, maximum: MAX_PAGES, shared: true } : { initial: 1, shared: false };
  return wasmKernel(`transpose|${heap.shared}`, 'transpose', () => renderTranspose(memory));
}

/**
 * Packs a B whose columns are contiguous (element `o` of the heap's float32 view, columns
 * `sbn` elements apart: a transposed row-major matrix) into panels at byte `dst`: each panel
 * is the transpose of NR of those columns, a last, narrower one over zeros. (A convolution's
 * weight gradient has 9 such columns of 676 per image: packB's loop took 5% of a CNN step.)
 */
export function packTransposedB(f32: Float32Array, dst: number, o: number, k: number, n: number, sbn: number): void {
  const { transpose } = transposeKernel().exports;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const at = dst + 4 * j0 * k, width = Math.min(NR, n - j0);
    if (width < NR) f32.fill(0, at >>> 2, (at >>> 2) + NR * k);
    transpose!(4 * (o + j0 * sbn), 4 * sbn, at, 4 * NR, width, k);
  }
}

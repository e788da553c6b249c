/**
 * float32 matmul kernels on the WebAssembly engine, with the CPU kernel calling convention
 * (C, A, B, extras' buffers, then their offsets), so eager ops and compiled graphs run
 * this same kernel for the same spec and stay bitwise equal.
 *
 * Here operands are JavaScript typed arrays (tensors in the Wasm memory take
 * ./wasm-heap-matmul.ts), so each call copies A into Wasm
 * memory (row-major), packs B into the gemm module's column panels (both read through
 * their strides: transposed, negatively strided and broadcast operands need no copy of
 * their own, and an operand broadcast over the batch is packed once), runs the gemm over
 * row ranges split across threads, and copies C out. An epilogue (bias, activation,
 * residual) computes from the product already rounded to float32, exactly as the unfused
 * matmul's output is, so fused and unfused results agree bit for bit: the gemm applies it
 * to each block of C as the block is finished (./codegen/wasm/gemm-epilogue.ts) where it
 * computes what the JavaScript elementwise kernels compute, else a generated JavaScript
 * loop maps the product.
 */
import { withSizes } from '../runtime/cpu/backend.js';
import { compileCpuKernel, type CpuKernel } from '../runtime/cpu/compile.js';
import type { TypedArray } from '../runtime/dtype.js';
import { wasmKernels } from '../runtime/wasm/engine.js';
import { wasmFeatures } from '../runtime/wasm/features.js';
import { MAX_PAGES, wasmHeap } from '../runtime/wasm/memory.js';
import { wasmKernel, type WasmKernel } from '../runtime/wasm/modules.js';
import { tileClaim } from '../runtime/wasm/split.js';
import { availableThreads, runJobs } from '../runtime/wasm/threads.js';
import { jsProgram } from './codegen/js-program.js';
import { renderGemm, type GemmSpec } from './codegen/wasm/gemm.js';
import { epilogueKey, gemmEpilogue, type GemmEpilogue } from './codegen/wasm/gemm-epilogue.js';
import { jsHelpers } from './codegen/js-helpers.js';
import type { Expr, MapSpec, MatmulSpec } from './kernel.js';

/**
 * Register block, k block and row block. A k step of the micro-kernel keeps its
 * accumulators, B rows, splats and a product in registers (V8 gives Wasm SIMD 15 of x64's
 * 16 xmm registers), so only blocks with mr · nr/4 + nr/4 + mr + 1 ≤ 15 run without spills:
 * on this 2-core AMD EPYC (bench/gemm-blocking.ts: gemm 1024 alone, CPU time, best of
 * interleaved rounds on a loaded machine) 5×8, 6×8 and 3×12 ran at 19–24 GFLOP/s, 3×8 at
 * 36, 2×16 and 4×8 at 37–42 (2×16 ahead in 5 of 7 paired runs, by 3% on average: it
 * updates the fewest pointers a step); with relaxed SIMD 2×16 ran at 46–49. A k block of KC
 * keeps one panel's k block (KC · 16 floats, 32 KiB of the 48 KiB L1) while the micro-kernel
 * walks a row block of A (MC · KC floats, 512 KiB) that stays in L2 for every panel; KC 512
 * ran 1–2% ahead of 256 (42.3–43.0 against 41.7–42.6 GFLOP/s, three interleaved runs: fewer
 * reloads of C's partial sums), and row blocks of 64, 256 and all rows within noise of each
 * other. The micro-kernel's loop is 29 instructions for 16 f32x4 mul/add (V8 adds a stack
 * check each iteration), so it runs at about 0.93 of the ceiling; unrolled by two, V8 hoists
 * the second step's loads and spills accumulators.
 */
export const MR = 2, NR = 16, KC = 512, MC = 256;
/** Bytes one call may place in Wasm memory; larger products run on the JavaScript kernel. */
const MAX_BYTES = 2 ** 30;
/** Multiply-adds below which a product stays on the calling thread (waking a worker costs microseconds). */
const PARALLEL_MACS = 1 << 20;

/**
 * The gemm module this process uses (the same for eager and jit: one fma choice per process),
 * with `epilogue` applied at its stores where given.
 */
export function gemmKernel(epilogue?: GemmEpilogue): WasmKernel {
  const heap = wasmHeap();
  const spec: GemmSpec = {
    mr: MR, nr: NR, fma: wasmFeatures().relaxedSimd, epilogue,
    memory: heap.shared ? { initial: 1, maximum: MAX_PAGES, shared: true } : { initial: 1, shared: false },
  };
  const key = `gemm|${spec.mr}|${spec.nr}|${spec.fma}|${heap.shared}|${epilogue ? epilogueKey(epilogue) : ''}`;
  return wasmKernel(key, 'gemm', () => renderGemm(spec));
}

/** Where a gemm with an epilogue writes and what it reads besides the product: byte addresses and row strides. */
export interface EpilogueOperands {
  out: number;
  ldo: number;
  /** [address, row stride] of each extra. */
  extras: (readonly [number, number])[];
}

/** The gemm float32 matmuls run on here (register block, k and row blocks, fma); undefined on the JavaScript engine. */
export function wasmMatmulVariant(): { mr: number; nr: number; kc: number; mc: number; fma: boolean } | undefined {
  return wasmKernels() ? { mr: MR, nr: NR, kc: KC, mc: MC, fma: wasmFeatures().relaxedSimd } : undefined;
}

/**
 * The epilogue as a JavaScript map over one batch's m × n outputs: arg 0 is C, args 1 … E
 * the extras, arg E + 1 the product in Wasm memory (row stride `ldc`), read where the
 * matmul kernel's epilogue read its `acc`.
 */
export function epilogueKernel(spec: MatmulSpec, ldc: number, helpers: object): CpuKernel {
  const epilogue = spec.epilogue!;
  const product = spec.extras.length + 1;
  const body = epilogue.body.map((e): Expr => {
    switch (e.op) {
      case 'acc': return { op: 'load', arg: product };
      case 'load': return { ...e, arg: e.arg - 2 };
      case 'gatherLoad': return { ...e, arg: e.arg - 2 };
      default: return e;
    }
  });
  const map: MapSpec = {
    kind: 'map', shape: [spec.m, spec.n],
    dtypes: [epilogue.dtype, ...spec.extras.map((x) => x.dtype), 'float32'],
    strides: [[spec.n, 1], ...spec.extras.map((x) => [...x.strides]), [ldc, 1]],
    body, stores: [{ arg: 0, node: epilogue.value }],
  };
  const program = jsProgram(map);
  return withSizes(compileCpuKernel(program.source, helpers), program.sizes);
}

/** Copies A (m × k through its strides) into row-major float32 at `dst`. */
export function packA(
  f32: Float32Array, dst: number, a: TypedArray, o: number, m: number, k: number, sam: number, sak: number,
): void {
  if (sak === 1 && sam === k) f32.set(a.subarray(o, o + m * k), dst);
  else if (sak === 1) for (let i = 0; i < m; i++) f32.set(a.subarray(o + i * sam, o + i * sam + k), dst + i * k);
  else if (Math.abs(sam) < Math.abs(sak)) {
    // Column-major (a transposed view): read down the columns, the direction A is stored in.
    for (let kk = 0; kk < k; kk++) {
      for (let i = 0, d = dst + kk, s = o + kk * sak; i < m; i++, s += sam, d += k) f32[d] = a[s]!;
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let kk = 0, d = dst + i * k, s = o + i * sam; kk < k; kk++, s += sak) f32[d + kk] = a[s]!;
    }
  }
}

/** Packs B (k × n through its strides) into panels of NR columns at `dst`, columns past n as zeros. */
export function packB(
  f32: Float32Array, dst: number, b: TypedArray, o: number, k: number, n: number, sbk: number, sbn: number,
): void {
  for (let j0 = 0, d = dst; j0 < n; j0 += NR) {
    const w = Math.min(NR, n - j0);
    for (let kk = 0, s = o + j0 * sbn; kk < k; kk++, s += sbk, d += NR) {
      for (let c = 0; c < w; c++) f32[d + c] = b[s + c * sbn]!;
      for (let c = w; c < NR; c++) f32[d + c] = 0;
    }
  }
}

/**
 * Packs a B that lives in the Wasm memory with contiguous columns (element `o` of the heap's
 * float32 view, rows `sbk` elements apart) into panels at byte `dst`: whole panels with the
 * gemm module's vector copy, a last narrower one with packB.
 */
export function packHeapB(
  gemm: WasmKernel, f32: Float32Array, dst: number, o: number, k: number, n: number, sbk: number,
): void {
  const whole = Math.floor(n / NR);
  gemm.exports.pack!(4 * o, 4 * sbk, dst, k, whole);
  if (whole * NR < n) packB(f32, (dst >>> 2) + whole * NR * k, f32, o + whole * NR, k, n - whole * NR, sbk, 1);
}

/** Threads a gemm of `macs` multiply-adds over `blocks` blocks of MR rows runs on. */
export function gemmThreads(macs: number, blocks: number): number {
  return macs < PARALLEL_MACS ? 1 : Math.min(availableThreads(), blocks);
}

/** Products of a batched gemm in one call, and the byte distance between consecutive products' A, packed B and C. */
export interface GemmBatch {
  count: number;
  sa: number;
  sb: number;
  sc: number;
}

const ONE: GemmBatch = { count: 1, sa: 0, sb: 0, sc: 0 };

/**
 * Runs the gemm over rows [0, m) of A at `a` (row stride `lda` bytes), for each product of
 * `batch`, on the threads available, which take tiles (ranges of rows, and of panels where
 * rows are few; whole products where they are many) until none are left.
 */
export function multiply(
  gemm: WasmKernel, a: number, lda: number, b: number, c: number, m: number, n: number, k: number, panels: number,
  epilogue?: EpilogueOperands, batch: GemmBatch = ONE,
): void {
  const threads = gemmThreads(batch.count * m * n * k, batch.count * Math.ceil(m / MR));
  const claim = tileClaim(m, panels, MR, threads, batch.count);
  const job = [a, lda, b, c, 4 * panels * NR, m, panels, k, KC, MC, claim.at, claim.rows, claim.panels];
  job.push(batch.count, batch.sa, batch.sb, batch.sc);
  if (epilogue !== undefined) job.push(n, epilogue.out, epilogue.ldo, ...epilogue.extras.flat());
  if (threads === 1) gemm.exports.gemm!(...job);
  else runJobs(gemm, Array.from({ length: threads }, () => job));
}

/** The epilogue alone over an m × n product at `c` (row stride ldc bytes): the gemm's epilogue when k = 0. */
export function epilogueOnly(
  gemm: WasmKernel, c: number, ldc: number, m: number, n: number, e: EpilogueOperands,
): void {
  gemm.exports.epilogue!(c, ldc, e.out, e.ldo, m, n, ...e.extras.flat());
}

/**
 * Moves to the next batch position: an odometer over the batch dims (`index`), moving every
 * arg's element offset (`at`) by its batch strides.
 */
export function nextBatch(batch: readonly number[], batchStrides: readonly (readonly number[])[], index: number[], at: number[]): void {
  for (let d = batch.length - 1; d >= 0; d--) {
    for (let x = 0; x < at.length; x++) at[x]! += batchStrides[x]![d]!;
    if (++index[d]! < batch[d]!) break;
    for (let x = 0; x < at.length; x++) at[x]! -= batch[d]! * batchStrides[x]![d]!;
    index[d] = 0;
  }
}

/**
 * The Wasm kernel for a matmul spec, or undefined where the JavaScript kernel runs it: on
 * the JavaScript engine, for other dtypes, and for products too large for the Wasm memory.
 */
export function wasmMatmul(spec: MatmulSpec): CpuKernel | undefined {
  if (spec.dtype !== 'float32' || !wasmKernels()) return undefined;
  const { m, n, k } = spec;
  const panels = Math.ceil(n / NR), ldc = panels * NR;
  if (4 * (m * k + ldc * k + m * ldc) > MAX_BYTES) return undefined;
  // Typed arrays: the elementwise kernels fused here run alone as JavaScript, so the epilogue
  // runs in Wasm only where it computes their bits (no math function) on float32 operands,
  // which are copied into the Wasm memory (the product's rows and a broadcast row at most).
  const fused = typedEpilogue(spec);
  const gemm = gemmKernel(fused);
  const epilogue = spec.epilogue === null || fused !== undefined ? undefined : epilogueKernel(spec, ldc, jsHelpers);
  const extraShapes = spec.extras.map((x) => [x.strides[0] === 0 ? 1 : m, x.strides[1] === 0 ? 1 : n] as const);
  const nArgs = 3 + spec.extras.length;
  const batchStrides = [...spec.batchStrides, ...spec.extras.map((x) => x.batchStrides)];
  const batchSize = spec.batch.reduce((p, d) => p * d, 1);
  // An operand whose batch strides are all 0 is the same matrix for every batch: packed once.
  const sameA = spec.batchStrides[1].every((s) => s === 0), sameB = spec.batchStrides[2].every((s) => s === 0);
  const [sam, sak] = spec.aStrides, [sbk, sbn] = spec.bStrides;
  // Row-major B is copied into the Wasm memory as it is, then packed there with vector copies.
  const rawB = sbn === 1 && sbk === n;
  return (...args: (TypedArray | number)[]) => {
    if (m === 0 || n === 0) return;
    const bufs = args.slice(0, nArgs) as TypedArray[];
    const offs = args.slice(nArgs) as number[];
    const heap = wasmHeap();
    const aPtr = heap.alloc(4 * m * k), bPtr = heap.alloc(4 * ldc * k), cPtr = heap.alloc(4 * m * ldc);
    const rawPtr = rawB ? heap.alloc(4 * k * n) : 0;
    const extraPtrs = fused === undefined ? [] : extraShapes.map(([r, c]) => heap.alloc(4 * r * c));
    try {
      const f32 = heap.f32();
      const operands: EpilogueOperands = {
        out: cPtr, ldo: 4 * ldc,
        extras: extraPtrs.map((x, i) => [x, extraShapes[i]![0] === 1 ? 0 : 4 * extraShapes[i]![1]]),
      };
      const at = offs.slice();
      const index = spec.batch.map(() => 0);
      for (let t = 0; t < batchSize; t++) {
        if (t === 0 || !sameA) packA(f32, aPtr >>> 2, bufs[1]!, at[1]!, m, k, sam, sak);
        if ((t === 0 || !sameB) && rawB) {
          f32.set(bufs[2]!.subarray(at[2]!, at[2]! + k * n), rawPtr >>> 2);
          packHeapB(gemm, f32, bPtr, rawPtr >>> 2, k, n, n);
        } else if (t === 0 || !sameB) packB(f32, bPtr >>> 2, bufs[2]!, at[2]!, k, n, sbk, sbn);
        extraPtrs.forEach((x, i) => {
          const [r, c] = extraShapes[i]!, [sm, sn] = spec.extras[i]!.strides;
          packA(f32, x >>> 2, bufs[3 + i]!, at[3 + i]!, r, c, sm, sn);
        });
        if (k === 0) f32.fill(0, cPtr >>> 2, (cPtr >>> 2) + m * ldc);
        if (k === 0 && fused !== undefined) epilogueOnly(gemm, cPtr, 4 * ldc, m, n, operands);
        else if (k !== 0) multiply(gemm, aPtr, 4 * k, bPtr, cPtr, m, n, k, panels, fused && operands);
        const c0 = cPtr >>> 2;
        if (epilogue !== undefined) epilogue(bufs[0], ...bufs.slice(3), f32, at[0], ...at.slice(3), c0);
        else if (ldc === n) bufs[0]!.set(f32.subarray(c0, c0 + m * n), at[0]!);
        else for (let i = 0; i < m; i++) bufs[0]!.set(f32.subarray(c0 + i * ldc, c0 + i * ldc + n), at[0]! + i * n);
        nextBatch(spec.batch, batchStrides, index, at);
      }
    } finally {
      heap.free(aPtr);
      heap.free(bPtr);
      heap.free(cPtr);
      if (rawB) heap.free(rawPtr);
      for (const x of extraPtrs) heap.free(x);
    }
  };
}

/** The epilogue the gemm applies on the JavaScript engine: float32 throughout and no math function. */
function typedEpilogue(spec: MatmulSpec): GemmEpilogue | undefined {
  if (spec.epilogue?.dtype !== 'float32' || spec.extras.some((x) => x.dtype !== 'float32')) return undefined;
  return gemmEpilogue(spec, false);
}

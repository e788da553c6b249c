/**
 * The gemm module run on its own memory: operands placed as the driver places them (A
 * row-major, B in column panels), C read back row by row, and the reference sums it must
 * equal. Shared by the gemm tests and the relaxed-SIMD child process.
 */
import { renderGemm } from '../../../../compiler/codegen/wasm/gemm.js';
import { wasmApi } from '../../../../runtime/wasm/api.js';

/** A register block and arithmetic to build, and the blocking to run it with. */
export interface GemmRun {
  mr: number;
  nr: number;
  fma: boolean;
  kc: number;
  mc: number;
  /** Rows the gemm takes a tile at a time (all of them where not given). */
  chunk?: number;
  /** Panels the gemm takes a tile at a time (all of them where not given). */
  panels?: number;
}

/** C = A·B (A m × k, B k × n, both row-major) through a freshly built gemm module. */
export function runGemm(run: GemmRun, a: Float32Array, b: Float32Array, m: number, n: number, k: number): Float32Array {
  const api = wasmApi!;
  const { nr } = run;
  const panels = Math.ceil(n / nr), ldc = panels * nr;
  const aAt = 0, bAt = aAt + 4 * m * k, cAt = bAt + 4 * ldc * k;
  // The count of tiles handed out, after C: zero, as a fresh memory is.
  const claimAt = cAt + 4 * m * ldc;
  const memory = new api.Memory({ initial: Math.ceil((claimAt + 4) / 65536) + 1 });
  const bytes = renderGemm({ mr: run.mr, nr, fma: run.fma, memory: { initial: 1, shared: false } });
  const gemm = new api.Instance(new api.Module(bytes), { env: { memory } }).exports.gemm as (...x: number[]) => void;
  const f32 = new Float32Array(memory.buffer);
  f32.set(a, aAt / 4);
  for (let p = 0; p < panels; p++) {
    for (let kk = 0; kk < k; kk++) {
      for (let c = 0; c < nr; c++) {
        const j = p * nr + c;
        f32[bAt / 4 + (p * k + kk) * nr + c] = j < n ? b[kk * n + j]! : 0;
      }
    }
  }
  // C starts as garbage: a block that does not continue from stored sums must start from zero.
  f32.fill(Number.NaN, cAt / 4, cAt / 4 + m * ldc);
  gemm(aAt, 4 * k, bAt, cAt, 4 * ldc, m, panels, k, run.kc, run.mc, claimAt, run.chunk ?? m, run.panels ?? panels, 1, 0, 0, 0);
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) c.set(f32.subarray(cAt / 4 + i * ldc, cAt / 4 + i * ldc + n), i * n);
  return c;
}

/** Each element the float32 sum over k in order, acc = fround(acc + fround(a·b)) from 0. */
export function referenceGemm(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Float32Array {
  const f = Math.fround;
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let kk = 0; kk < k; kk++) acc = f(acc + f(a[i * k + kk]! * b[kk * n + j]!));
      c[i * n + j] = acc;
    }
  }
  return c;
}

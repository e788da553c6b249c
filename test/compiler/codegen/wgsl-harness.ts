/** Helpers the WGSL suites share: layouts, CPU reference runs, element comparison, a fused matmul spec. */
import { expect } from 'vitest';
import { cpuKernel } from '../../../compiler/execute.js';
import { contiguousStrides } from '../../../compiler/ir/shape.js';
import { specKey, type KernelSpec, type MatmulSpec, type RowSpec } from '../../../compiler/kernel.js';
import type { Layout } from '../../../compiler/lower.js';
import type { DType, TypedArray } from '../../../runtime/dtype.js';

export type GpuDType = 'float32' | 'int32' | 'uint8' | 'bool';

/** The smallest normal float32. */
export const FLT_MIN = 1.1754943508222875e-38;

export function lay(dtype: DType, shape: number[], strides: number[] = contiguousStrides(shape), offset = 0): Layout {
  return { dtype, shape, strides, offset };
}

/** Runs `spec` with the CPU renderer on copies of `host`; returns every arg's array after the call. */
export function cpuRun(spec: KernelSpec, host: readonly TypedArray[], offsets: readonly number[], scalars: readonly number[] = []): TypedArray[] {
  const copies = host.map((a) => a.slice());
  cpuKernel({ key: `wgsl-test|${specKey(spec)}`, build: () => spec })(...copies, ...offsets, ...scalars);
  return copies;
}

export interface Tolerance {
  /** Allowed error in units of the expected value's float32 ulp (per element when a function). */
  ulps?: number | ((i: number) => number);
  /** Allowed absolute error on top (subnormal results a device may flush to zero). */
  atol?: number;
}

/** Checks every element; NaN matches only NaN, infinities only themselves; reports the first mismatch. */
export function expectMatch(label: string, got: TypedArray, want: TypedArray, dtype: DType, tol: Tolerance = {}, explain?: (i: number) => string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    let ok: boolean;
    if (dtype !== 'float32') ok = g === w;
    else if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ok = g === w;
    else {
      const ulps = typeof tol.ulps === 'function' ? tol.ulps(i) : tol.ulps ?? 0;
      ok = Math.abs(g - w) <= ulps * Math.max(Math.abs(w), FLT_MIN) * 2 ** -23 + (tol.atol ?? 0);
    }
    if (!ok) throw new Error(`${label}: element ${i} of ${want.length} differs: gpu ${g}, cpu ${w}${explain ? ` (${explain(i)})` : ''}`);
  }
}

/** relu(A @ B + bias) + residual over a batch of 2, as the fuser builds it: constants are zero-stride operands. */
export function matmulEpilogue(m: number, n: number, k: number): MatmulSpec {
  const f = 'float32' as const;
  return {
    kind: 'matmul', dtype: f, m, n, k, aStrides: [k, 1], bStrides: [n, 1],
    batch: [2], batchStrides: [[m * n], [m * k], [0]],
    extras: [
      { dtype: f, batchStrides: [0], strides: [0, 1] },
      { dtype: f, batchStrides: [0], strides: [0, 0] },
      { dtype: f, batchStrides: [m * n], strides: [n, 1] },
    ],
    epilogue: {
      dtype: f, value: 7,
      body: [
        { op: 'acc' }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'add', args: [0, 1], dtype: f },
        { op: 'load', arg: 4 }, { op: 'prim', prim: 'le', args: [2, 3], dtype: f }, { op: 'prim', prim: 'where', args: [4, 3, 2], dtype: f },
        { op: 'load', arg: 5 }, { op: 'prim', prim: 'add', args: [5, 6], dtype: f },
      ],
    },
  };
}

/** A contiguous row layout of `inner` per row for each arg, or a per-row one (inner stride 0) for args in `perRow`. */
export function rowLayout(rows: number, inner: number, args: number, perRow: ReadonlySet<number> = new Set()): Pick<RowSpec, 'outer' | 'inner' | 'outerStrides' | 'innerStrides'> {
  const all = Array.from({ length: args }, (_, a) => a);
  return {
    outer: [rows], inner: [inner],
    outerStrides: all.map((a) => [perRow.has(a) ? 1 : inner]),
    innerStrides: all.map((a) => [perRow.has(a) ? 0 : 1]),
  };
}

/** softmax: max, sum of exp(x - max) (saved as scratch), then the division; arg 0 out, arg 1 x. */
export function softmaxRow(layout: Pick<RowSpec, 'outer' | 'inner' | 'outerStrides' | 'innerStrides'>): RowSpec {
  const f = 'float32' as const;
  return {
    kind: 'row', ...layout, dtypes: [f, f], rows: 2, scratch: 1,
    passes: [
      { kind: 'reduce', op: 'max', dtype: f, outDtype: f, body: [{ op: 'load', arg: 1 }], value: 0, row: 0, saves: [] },
      {
        kind: 'reduce', op: 'sum', dtype: f, outDtype: f, row: 1, value: 3, saves: [{ node: 3, index: 0 }],
        body: [{ op: 'load', arg: 1 }, { op: 'row', index: 0 }, { op: 'prim', prim: 'sub', args: [0, 1], dtype: f }, { op: 'prim', prim: 'exp', args: [2], dtype: f }],
      },
      { kind: 'map', saves: [], stores: [{ arg: 0, node: 2 }], body: [{ op: 'scratch', index: 0 }, { op: 'row', index: 1 }, { op: 'prim', prim: 'div', args: [0, 1], dtype: f }] },
    ],
  };
}

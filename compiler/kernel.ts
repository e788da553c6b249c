/**
 * Kernel specs: what one generated kernel computes, independent of the target language.
 * A spec is built only from validated integers, dtype names and primitive names, so the
 * renderers can turn it into source text without ever seeing user strings.
 *
 * Buffers are numbered args; at run time a kernel receives every arg's buffer, then every
 * arg's element offset, then the scalar arguments. Offsets and scalars are run-time values
 * so that slices of one tensor and different constants share one compiled kernel.
 */
import type { DType } from '../runtime/dtype.js';
import type { Prim, ReducePrim } from './ir/primitives.js';

/** One node of the per-element expression DAG; nodes refer to earlier nodes by index. */
export type Expr =
  /** Element of arg `arg` at the current position. */
  | { op: 'load'; arg: number }
  /** Element of arg `arg` at the current position plus `index`'s value × `stride`, bounds-checked against `size`. */
  | { op: 'gatherLoad'; arg: number; index: number; stride: number; size: number }
  /** A constant recorded in the graph, already stored as `dtype` stores it. */
  | { op: 'literal'; value: number; dtype: DType }
  /** Scalar argument `index`, converted to `dtype`. */
  | { op: 'scalar'; index: number; dtype: DType }
  /** The position along the (single) iteration dimension: iota. */
  | { op: 'position' }
  /** Row value `index` of a row kernel: a reduction result or a per-row scalar computed earlier. */
  | { op: 'row'; index: number }
  /** In a matmul epilogue, the product at this output element, rounded to the matmul's dtype. */
  | { op: 'acc' }
  /** In a row kernel, the value an earlier pass saved in scratch `index` at this inner position. */
  | { op: 'scratch'; index: number }
  /** An elementwise primitive applied to earlier nodes, all of dtype `dtype`. */
  | { op: 'prim'; prim: Prim; args: number[]; dtype: DType }
  | { op: 'cast'; arg: number; from: DType; to: DType };

/** Writes node `node` into arg `arg`; with `index`, at a gathered position, adding when `accumulate`. */
export interface Store {
  arg: number;
  node: number;
  scatter?: { index: number; stride: number; size: number; accumulate: boolean };
}

/** An elementwise loop nest over `shape`; `strides[a][d]` is arg a's stride along dim d. */
export interface MapSpec {
  kind: 'map';
  shape: number[];
  dtypes: DType[];
  strides: number[][];
  body: Expr[];
  stores: Store[];
}

/**
 * A reduction: for each position of `outer`, fold `body`'s value (node `value`) over every
 * position of `inner`. Arg 0 is the output (outer positions only).
 */
export interface ReduceSpec {
  kind: 'reduce';
  op: ReducePrim;
  /** dtype the accumulator's values come in (the operand dtype). */
  dtype: DType;
  outDtype: DType;
  outer: number[];
  inner: number[];
  dtypes: DType[];
  outerStrides: number[][];
  innerStrides: number[][];
  body: Expr[];
  value: number;
}

/** C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n]; C (arg 0) is contiguous. */
export interface MatmulSpec {
  kind: 'matmul';
  dtype: DType;
  batch: number[];
  /** Batch strides of C, A and B. */
  batchStrides: [number[], number[], number[]];
  m: number;
  n: number;
  k: number;
  /** A's strides along m and k; B's along k and n. */
  aStrides: [number, number];
  bStrides: [number, number];
  /** Operands of the epilogue (args 3, 4, …): batch strides, then strides along m and n. */
  extras: { dtype: DType; batchStrides: number[]; strides: [number, number] }[];
  /** Computed per output element from the product (`acc`) and the extras; null stores the product. */
  epilogue: { body: Expr[]; value: number; dtype: DType } | null;
}

/** Fills arg 0 (contiguous, `size` elements) with uniform float32 in [0, 1); scalars: seed, offset. */
export interface RandomSpec {
  kind: 'random';
  size: number;
}

/** One pass of a row kernel over the inner positions of the current row (or at the row itself). */
export type RowPass =
  /** Fold `body`'s node `value` over the row into row value `row`; store it into arg `store` if given. */
  | { kind: 'reduce'; op: 'sum' | 'prod' | 'max' | 'min'; dtype: DType; outDtype: DType; body: Expr[]; value: number; row: number; store?: number; saves: Save[] }
  /** Compute row value `row` from earlier row values and per-row loads. */
  | { kind: 'scalar'; body: Expr[]; value: number; row: number; store?: number }
  /** Compute `body` at every inner position and store it. */
  | { kind: 'map'; body: Expr[]; stores: Store[]; saves: Save[] };

/** Keeps node `node` of a pass's body in scratch `index` for later passes over the same row. */
export interface Save {
  node: number;
  index: number;
}

/**
 * A row kernel: for each position of `outer`, its passes in order. Reductions that share
 * their axes (softmax's max and sum, layerNorm's mean and variance) and the elementwise
 * work around them run as one kernel; the elementwise values each pass needs are
 * recomputed in that pass rather than stored.
 */
export interface RowSpec {
  kind: 'row';
  outer: number[];
  inner: number[];
  dtypes: DType[];
  outerStrides: number[][];
  innerStrides: number[][];
  /** Number of row values. */
  rows: number;
  /** Number of scratch rows (each as long as the inner iteration). */
  scratch: number;
  passes: RowPass[];
}

/**
 * Independent kernels merged into one (horizontal fusion): parts run in order; `args[a]`
 * maps part arg a to the merged kernel's arg, so a part can read what an earlier one stored.
 */
export interface MultiSpec {
  kind: 'multi';
  args: number;
  parts: { spec: MapSpec | ReduceSpec; args: number[] }[];
}

/**
 * A whole lifted loop over one-element values in one kernel (compiler/loop-kernel.ts): the
 * loop variables live in registers, and each iteration evaluates `cond` and, while its node
 * `condValue` is true (nonzero, not NaN), `body`, whose nodes `results` are the variables'
 * next values. Args: the variables' final values (0 … carried-1), the iteration count
 * (int32, arg `carried`), the variables' first values, then the loop-invariant values.
 * In `cond`, load j reads variable j (j < carried) or invariant j - carried; `body` loads
 * the same, then cond's nodes `exports` (load carried + invariants + e). When the loop ends
 * the variables take cond's nodes `exits`. Past `maxIterations` it stops and reports so.
 */
export interface LoopSpec {
  kind: 'loop';
  dtypes: DType[];
  carried: number;
  invariants: number;
  cond: Expr[];
  condValue: number;
  exports: number[];
  exits: number[];
  body: Expr[];
  results: number[];
  maxIterations: number;
}

/** Every kind of kernel. */
export type KernelSpec = MapSpec | ReduceSpec | MatmulSpec | RandomSpec | RowSpec | MultiSpec | LoopSpec;

/** Arithmetic on sizes of type D: numbers, or sizes a renderer knows only at launch (see collapseWith). */
export interface DimArithmetic<D> {
  /** The size's value (in the kernel being rendered). */
  value(d: D): number;
  /** The product of two sizes. */
  mul(a: D, b: D): D;
  /** A constant size. */
  of(n: number): D;
}

const NUMBERS: DimArithmetic<number> = { value: (d) => d, mul: (a, b) => a * b, of: (n) => n };

/**
 * Drops size-1 dims and merges neighbouring dims that every arg walks as one run, so a
 * contiguous op of any rank becomes a single flat loop. Returns at least one dim.
 */
export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  return collapseWith(shape, strides, NUMBERS);
}

/** collapseDims over sizes of any kind, each decision taken on the sizes' values. */
export function collapseWith<D>(
  shape: readonly D[], strides: readonly (readonly D[])[], dims: DimArithmetic<D>,
): { shape: D[]; strides: D[][] } {
  const outShape: D[] = [];
  const outStrides: D[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (dims.value(size) === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    for (let a = 0; merge && a < strides.length; a++) {
      if (dims.value(outStrides[a]![last]!) !== dims.value(strides[a]![d]!) * dims.value(size)) merge = false;
    }
    if (merge) {
      outShape[last] = dims.mul(outShape[last]!, size);
      for (let a = 0; a < strides.length; a++) outStrides[a]![last] = strides[a]![d]!;
    } else {
      outShape.push(size);
      for (let a = 0; a < strides.length; a++) outStrides[a]!.push(strides[a]![d]!);
    }
  }
  if (outShape.length === 0) {
    outShape.push(dims.of(1));
    for (const s of outStrides) s.push(dims.of(0));
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * JSON text of a kernel spec (or part of one) for cache keys. Plain JSON writes -0 as 0 and
 * NaN and ±Infinity as null, so kernels with different literals would share one entry.
 */
export function specKey(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? '-0' : String(v)}` : v));
}

/** A compact cache key for a loop nest: sizes, then each arg's strides. Hot path of every eager op. */
export function layoutKey(shape: readonly number[], strides: readonly (readonly number[])[]): string {
  let key = '';
  for (let d = 0; d < shape.length; d++) key += shape[d] + ',';
  for (let a = 0; a < strides.length; a++) {
    key += ';';
    const s = strides[a]!;
    for (let d = 0; d < s.length; d++) key += s[d] + ',';
  }
  return key;
}

/**
 * What the op table knows of one op: seeded inputs (their shapes and dtypes), the kiln call,
 * a float64 reference written on plain arrays, whether it is differentiable, and how close
 * results must be to the reference and across backends. The drivers (op-table.test.ts and
 * test/src/backends/op-table.test.ts) run every record in every mode, so a record added here
 * is tested everywhere.
 */
import * as k from '../../../../src/index.js';
import type { Device, DType, Tensor } from '../../../../src/index.js';
import { uniform } from '../../../helpers.js';
import { sizeOfShape, type RefArray } from '../../ref-arrays.js';

/** The dtype family of an input: 'float' becomes float64 (reference, gradients) or float32 (jit, backends). */
export type InputKind = 'float' | 'int32' | 'bool';

/** One input: reference values and the dtype family it becomes. */
export interface TableInput {
  ref: RefArray;
  kind: InputKind;
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

export interface TableRecord {
  name: string;
  /** Seeded inputs; their count is the op's arity, their kinds its dtypes. */
  inputs: (next: () => number) => TableInput[];
  call: (...xs: Tensor[]) => Tensor | Tensor[];
  /** float64 semantics on plain arrays; one result per output. */
  ref: (...xs: RefArray[]) => RefArray[];
  /** Differentiable in its float inputs (checked by finite differences in float64). */
  grad: boolean;
  /** float64 eager against the reference (default rtol 1e-9, atol 1e-10). */
  refTol?: Tolerance;
  /** Absolute and relative tolerance of a float32 backend against the CPU (default: the backend's own). */
  backendTol?: number;
  /** False for ops whose output shape depends on values (they read them, so they stay on the CPU). */
  backends?: boolean;
  /** Dtypes the row makes besides float32, int32 and bool (a backend without them skips the row). */
  needs?: readonly DType[];
  /** Reads values (a result shape, a range check): jit guards them, so replays and
   * fallbacks depend on the draws. */
  readsValues?: boolean;
  /** Draws random numbers: every call (eager, jit, any backend) starts the stream from this seed. */
  seed?: number;
}

/**
 * How inputs are laid out in memory. 'strided' inputs are views over a bigger buffer (every
 * other element of the last dim, rows transposed), so each op meets non-contiguous operands.
 */
export type Layout = 'contiguous' | 'strided';

/** An input of `kind` with `shape`, each value from `draw`. */
const drawn = (kind: InputKind, shape: number[], draw: () => number): TableInput =>
  ({ ref: { shape, values: Array.from({ length: sizeOfShape(shape) }, draw) }, kind });

export const floats = (next: () => number, shape: number[], lo = -2, hi = 2): TableInput =>
  ({ ref: { shape, values: uniform(next, sizeOfShape(shape), lo, hi) }, kind: 'float' });
/** Values on a coarse grid so ties occur (sorting stability, first-index rules, -0 and 0). */
export const gridFloats = (next: () => number, shape: number[]): TableInput =>
  drawn('float', shape, () => Math.floor(next() * 5) - 2);
export const ints = (next: () => number, shape: number[], lo: number, hi: number): TableInput =>
  drawn('int32', shape, () => lo + Math.floor(next() * (hi - lo)));
export const bools = (next: () => number, shape: number[], p = 0.5): TableInput =>
  drawn('bool', shape, () => (next() < p ? 1 : 0));

/** The dtype an input of `kind` takes when floats are `float`. */
export function dtypeOf<F extends FloatDType>(kind: InputKind, float: F): F | 'int32' | 'bool' {
  return kind === 'float' ? float : kind;
}

/** The float dtypes a record's float inputs are made in. */
export type FloatDType = 'float16' | 'float32' | 'float64';

/** The input as a tensor on `device`, laid out as `layout` asks (the values are the same either way). */
export function toTensor(
  input: TableInput, float: FloatDType, device: Device = 'cpu', layout: Layout = 'contiguous',
): Tensor {
  const dtype = dtypeOf(input.kind, float);
  const { shape, values } = input.ref;
  if (layout === 'contiguous' || shape.length === 0) return k.tensor(values, { shape, dtype, device });
  // Storage holds the transpose with each element followed by a filler, so the view has
  // permuted strides and a step of two along what becomes its last dim.
  const rev = shape.slice().reverse();
  const revStrides = shape.map((_, i) => sizeOfShape(shape.slice(i + 1)));
  const stored: number[] = [];
  for (let i = 0; i < sizeOfShape(rev); i++) {
    let flat = i, p = 0;
    for (let d = rev.length - 1; d >= 0; d--) {
      p += (flat % rev[d]!) * revStrides[rev.length - 1 - d]!;
      flat = Math.floor(flat / rev[d]!);
    }
    stored.push(values[p]!, input.kind === 'bool' ? 1 : 7);
  }
  const wide = k.tensor(stored, { shape: [...rev.slice(0, -1), rev[rev.length - 1]! * 2], dtype, device });
  const picked = wide.slice(-1, 0, null, 2);
  return picked.permute(rev.map((_, i) => rev.length - 1 - i));
}

/** Starts the random stream where the record's reference expects it (before every call, outside jit). */
export function seedStream(op: TableRecord): void {
  if (op.seed !== undefined) k.manualSeed(op.seed);
}

/** The record's results as a list. */
export function outputs(op: TableRecord, xs: Tensor[]): Tensor[] {
  const out = op.call(...xs);
  return Array.isArray(out) ? out : [out];
}

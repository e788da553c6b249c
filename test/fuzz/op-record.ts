/**
 * What the fuzzer knows of one op: how to propose it on the values so far, run it on kiln,
 * compute it in float64 as a reference, print it as TypeScript, and how close kiln must be.
 */
import type { Tensor } from '../../src/index.js';
import type { Rng } from './rng.js';
import type { FuzzDType, Meta, Mode, Params } from './program.js';

/** Elements in float64 (int32 and bool as integers) with a shape and the dtype kiln must give. */
export interface RefValue {
  shape: number[];
  dtype: FuzzDType;
  values: number[];
  /** Absolute error allowed per element, for ops that accumulate (sums, products, matmul). */
  bound?: number[];
}

/**
 * How kiln's result must match the reference: `exact` ops are correctly rounded (+, ×, ÷, √,
 * views, comparisons: the float32 result is the float64 one rounded, -0 included); `select`
 * ops (max, min) pick an operand exactly, but a tie of -0 and 0 may give either; `math` ops
 * (exp, tanh, …) are within a few ulps; `accumulate` ops within the reference's bound.
 */
export type Check = 'exact' | 'select' | 'math' | 'accumulate';

export type Family = 'elementwise' | 'cast' | 'reduce' | 'view' | 'matmul' | 'index' | 'inplace';

/** What a proposal may use: the values so far, and a way to add an input of a chosen meta. */
export interface ProposeContext {
  rng: Rng;
  mode: Mode;
  /** A value whose meta satisfies `ok` (inputs and earlier results), or undefined. */
  pick(ok: (m: Meta, value: number) => boolean): number | undefined;
  /** A new input of `meta`. */
  input(meta: Meta): number;
  meta(value: number): Meta;
  /** True when `value` is an input or a view of one (in-place writes stay off inputs). */
  reachesInput(value: number): boolean;
  /** True when an in-place op may write `value`: no expanded (stride-0) dims, and not a view in gradient programs. */
  writable(value: number): boolean;
}

export interface Proposal {
  args: number[];
  params: Params;
  meta: Meta;
}

export interface OpRecord {
  name: string;
  family: Family;
  /** Differentiable almost everywhere, with a VJP kiln implements: used in gradient programs. */
  smooth: boolean;
  check: Check;
  /** The result shares storage with args[0] (a view): later writes show through it. */
  view?: boolean;
  /** Writes into args[0] and yields it. */
  inplace?: boolean;
  propose(c: ProposeContext): Proposal | undefined;
  run(args: Tensor[], params: Params): Tensor;
  ref(args: RefValue[], params: Params): RefValue;
  print(args: string[], params: Params): string;
}

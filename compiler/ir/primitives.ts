/**
 * The primitive ops and their rules: dtype rules and reference meaning here, shape rules in
 * infer.ts, and one table per further fact (JS rendering in codegen/js-prims.ts, WGSL in
 * codegen/wgsl-prims.ts, the VJP in src/autograd/vjp.ts, ONNX in export/onnx/prims.ts).
 * Every table is typed over every primitive it covers, so adding a primitive without a rule,
 * or with a rule of the wrong kind, fails to compile. Everything kiln offers beyond these
 * (softmax, gelu, linear, conv…) is built from them, so the tracer and the fuser see through it.
 *
 * Elementwise primitives take operands of one shape and one dtype: broadcasting and type
 * promotion happen before them, as explicit `expand` and `cast` nodes.
 */
import type { DType } from '../../runtime/dtype.js';
import { roundToHalf } from '../../runtime/half.js';
import { erf64, erfc64, mod, powC, powInt32, roundHalfEven, sigmoid64 } from '../scalar/f64-math.js';

/** Elementwise primitives of one operand. */
export type UnaryPrim =
  | 'copy' | 'neg' | 'abs' | 'sign' | 'recip' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt'
  | 'sin' | 'cos' | 'tan' | 'tanh' | 'erf' | 'erfc' | 'sigmoid' | 'floor' | 'ceil' | 'round' | 'not' | 'isnan';

/** Elementwise primitives of two operands. */
export type BinaryPrim =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'mod'
  | 'lt' | 'le' | 'eq' | 'ne' | 'and' | 'or';

/** Reductions over a list of axes (argmax/argmin over one axis). */
export type ReducePrim = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin';

/** Ops that only change how storage is read: no data moves. */
export type ViewPrim = 'reshape' | 'permute' | 'expand' | 'slice';

/** Every primitive. */
export type Prim =
  | UnaryPrim | BinaryPrim | 'where' | 'cast' | ReducePrim | ViewPrim
  | 'pad' | 'concat' | 'matmul' | 'gather' | 'scatterAdd' | 'random' | 'iota';

/** Parameters of the primitives that take any. */
export interface ParamsOf {
  /** A copy to the GPU names the device; other copies have no parameters. */
  copy: { device?: 'webgpu' };
  cast: { dtype: DType };
  sum: { axes: number[] };
  prod: { axes: number[] };
  max: { axes: number[] };
  min: { axes: number[] };
  argmax: { axis: number };
  argmin: { axis: number };
  reshape: { shape: number[] };
  permute: { perm: number[] };
  expand: { shape: number[] };
  /** Per dim: first index, step (> 0) and resulting length. */
  slice: { starts: number[]; steps: number[]; sizes: number[] };
  pad: { before: number[]; after: number[]; value: number };
  concat: { axis: number };
  gather: { axis: number };
  scatterAdd: { axis: number };
  /**
   * Uniform float32 in [0, 1) from the counter-based generator; `device` says when eager
   * code drew them on the GPU, so equal draws on two devices are not merged.
   */
  random: { shape: number[]; seed: number; offset: number; device?: 'webgpu' };
  /** int32 0..n-1 (`device` as random's). */
  iota: { n: number; device?: 'webgpu' };
}


/** Elementwise primitives: computed one element at a time. */
export type ElementwisePrim = UnaryPrim | BinaryPrim | 'where';

/** Primitives with a structure of their own: everything not elementwise. */
export type StructuredPrim = Exclude<Prim, ElementwisePrim>;

/** The parameter object of every primitive, keyed by primitive. */
type AllParams = { [P in Prim]: P extends keyof ParamsOf ? ParamsOf[P] : Record<string, never> };

/** The parameter object of primitive P (empty for primitives without parameters). */
export type Params<P extends Prim> = AllParams[P];

/** A primitive with its parameters, discriminated by `prim`: narrowing the primitive types the parameters. */
export type PrimCall<P extends Prim = Prim> = { [Q in P]: { prim: Q; params: Params<Q> } }[P];

/** Joins a primitive and its parameters into one value that a switch over `prim` narrows. */
export function primCall<P extends Prim>(prim: P, params: Params<P>): PrimCall {
  return { prim, params } as PrimCall;
}

/** Elementwise rule: operand and result dtypes, and the scalar meaning for the reference evaluator. */
export interface ElementwiseRule<K extends ElementwiseKind = ElementwiseKind> {
  kind: K;
  /** Operand dtypes accepted (all operands share one dtype; `where`'s condition is bool). */
  accepts: readonly DType[];
  /** Result dtype when it is not the operand dtype. */
  result?: DType;
  /** Reference semantics in float64; storing into the result's typed array rounds it. */
  ref: (...x: number[]) => number;
  /** int32 semantics where float64 arithmetic would not wrap like int32 does. */
  refInt?: (...x: number[]) => number;
}

/** How many operands an elementwise primitive takes. */
export type ElementwiseKind = 'unary' | 'binary' | 'ternary';

/** Reduction rule. */
export interface ReduceRule {
  kind: 'reduce';
  accepts: readonly DType[];
  /** Result dtype for an operand dtype. */
  result: (dtype: DType) => DType;
  /** True when an empty reduction has no value (max of nothing). */
  needsElements: boolean;
}

/** The other structured primitives, each a kind of its own (views share one). */
type OwnKindPrim = 'cast' | 'pad' | 'concat' | 'matmul' | 'gather' | 'scatterAdd' | 'random' | 'iota';

/** Rule of another structured primitive: its shape rule is in infer.ts, its meaning in compiler/ref. */
export interface StructuredRule<K extends OwnKindPrim | 'view' = OwnKindPrim | 'view'> {
  kind: K;
}

/** The kind of rule each primitive has: a rule of the wrong kind fails to compile. */
export type RuleOf<P extends Prim> =
  P extends UnaryPrim ? ElementwiseRule<'unary'>
  : P extends BinaryPrim ? ElementwiseRule<'binary'>
  : P extends 'where' ? ElementwiseRule<'ternary'>
  : P extends ReducePrim ? ReduceRule
  : P extends ViewPrim ? StructuredRule<'view'>
  : P extends OwnKindPrim ? StructuredRule<P>
  : never;

/** The rule record of one primitive. */
export type PrimRule = RuleOf<Prim>;

const NUM: readonly DType[] = ['float16', 'float32', 'float64', 'int32', 'uint8'];
const FLOAT: readonly DType[] = ['float16', 'float32', 'float64'];
const ALL: readonly DType[] = ['float16', 'float32', 'float64', 'int32', 'uint8', 'bool'];
const BOOL: readonly DType[] = ['bool'];

/** A float math function of float operands. */
function mathFn(ref: (x: number) => number): ElementwiseRule<'unary'> {
  return { kind: 'unary', accepts: FLOAT, ref };
}

function compare(ref: (a: number, b: number) => boolean): ElementwiseRule<'binary'> {
  return { kind: 'binary', accepts: ALL, result: 'bool', ref: (a, b) => (ref(a, b) ? 1 : 0) };
}

/** PyTorch sums and multiplies bool and uint8 in int64, which kiln stores as int32. */
function countResult(dtype: DType): DType {
  return dtype === 'bool' || dtype === 'uint8' ? 'int32' : dtype;
}

/** The rule of every primitive. */
export const primitiveRules: { [P in Prim]: RuleOf<P> } = {
  copy: { kind: 'unary', accepts: ALL, ref: (x) => x },
  neg: { kind: 'unary', accepts: NUM, ref: (x) => -x },
  abs: { kind: 'unary', accepts: NUM, ref: Math.abs },
  sign: { kind: 'unary', accepts: NUM, ref: (x) => (x > 0 ? 1 : x < 0 ? -1 : x) },
  recip: { kind: 'unary', accepts: FLOAT, ref: (x) => 1 / x },
  exp: mathFn(Math.exp),
  log: mathFn(Math.log),
  log1p: mathFn(Math.log1p),
  expm1: mathFn(Math.expm1),
  sqrt: mathFn(Math.sqrt),
  rsqrt: mathFn((x) => 1 / Math.sqrt(x)),
  sin: mathFn(Math.sin),
  cos: mathFn(Math.cos),
  tan: mathFn(Math.tan),
  tanh: mathFn(Math.tanh),
  erf: mathFn(erf64),
  erfc: mathFn(erfc64),
  sigmoid: mathFn(sigmoid64),
  floor: { kind: 'unary', accepts: NUM, ref: Math.floor },
  ceil: { kind: 'unary', accepts: NUM, ref: Math.ceil },
  round: { kind: 'unary', accepts: NUM, ref: roundHalfEven },
  not: { kind: 'unary', accepts: BOOL, ref: (x) => (x ? 0 : 1) },
  isnan: { kind: 'unary', accepts: ALL, result: 'bool', ref: (x) => (Number.isNaN(x) ? 1 : 0) },

  add: { kind: 'binary', accepts: NUM, ref: (a, b) => a + b },
  sub: { kind: 'binary', accepts: NUM, ref: (a, b) => a - b },
  mul: { kind: 'binary', accepts: NUM, ref: (a, b) => a * b, refInt: Math.imul },
  div: { kind: 'binary', accepts: FLOAT, ref: (a, b) => a / b },
  pow: { kind: 'binary', accepts: NUM, ref: powC, refInt: powInt32 },
  maximum: { kind: 'binary', accepts: NUM, ref: Math.max },
  minimum: { kind: 'binary', accepts: NUM, ref: Math.min },
  mod: { kind: 'binary', accepts: NUM, ref: mod },
  lt: compare((a, b) => a < b),
  le: compare((a, b) => a <= b),
  eq: compare((a, b) => a === b),
  ne: compare((a, b) => a !== b),
  and: { kind: 'binary', accepts: BOOL, ref: (a, b) => (a && b ? 1 : 0) },
  or: { kind: 'binary', accepts: BOOL, ref: (a, b) => (a || b ? 1 : 0) },

  where: { kind: 'ternary', accepts: ALL, ref: (c, a, b) => (c ? a : b) },
  cast: { kind: 'cast' },

  sum: { kind: 'reduce', accepts: ALL, result: countResult, needsElements: false },
  prod: { kind: 'reduce', accepts: ALL, result: countResult, needsElements: false },
  max: { kind: 'reduce', accepts: ALL, result: (dt) => dt, needsElements: true },
  min: { kind: 'reduce', accepts: ALL, result: (dt) => dt, needsElements: true },
  argmax: { kind: 'reduce', accepts: ALL, result: () => 'int32', needsElements: true },
  argmin: { kind: 'reduce', accepts: ALL, result: () => 'int32', needsElements: true },

  reshape: { kind: 'view' },
  permute: { kind: 'view' },
  expand: { kind: 'view' },
  slice: { kind: 'view' },
  pad: { kind: 'pad' },
  concat: { kind: 'concat' },
  matmul: { kind: 'matmul' },
  gather: { kind: 'gather' },
  scatterAdd: { kind: 'scatterAdd' },
  random: { kind: 'random' },
  iota: { kind: 'iota' },
};

/** Reference conversion of a value to what dtype `to` stores. */
export function refCast(x: number, to: DType): number {
  switch (to) {
    case 'bool': return x !== 0 ? 1 : 0;
    case 'int32': return Number.isFinite(x) ? Math.trunc(x) | 0 : 0;
    case 'uint8': return Number.isFinite(x) ? ((Math.trunc(x) % 256) + 256) % 256 : 0;
    case 'float16': return roundToHalf(x);
    case 'float32': return Math.fround(x);
    case 'float64': return x;
  }
}

/** True for primitives computed one element at a time. */
export function isElementwise(rule: PrimRule): rule is ElementwiseRule {
  return rule.kind === 'unary' || rule.kind === 'binary' || rule.kind === 'ternary';
}

/** True for the primitives computed one element at a time. */
export function isElementwisePrim(prim: Prim): prim is ElementwisePrim {
  return isElementwise(primitiveRules[prim]);
}

/** True for the primitives that only change how storage is read. */
export function isViewPrim(prim: Prim): prim is ViewPrim {
  return primitiveRules[prim].kind === 'view';
}

/** True when the call is of an elementwise primitive. */
export function isElementwiseCall(call: PrimCall): call is PrimCall<ElementwisePrim> {
  return isElementwisePrim(call.prim);
}

/** True when the call is of a view primitive. */
export function isViewCall(call: PrimCall): call is PrimCall<ViewPrim> {
  return isViewPrim(call.prim);
}

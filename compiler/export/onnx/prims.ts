/**
 * How each primitive becomes ONNX operators (opset 18). The table is typed over every
 * primitive, so a new primitive fails to compile until it says how it exports, or that it
 * does not (`null`, with the reason exportOnnx reports).
 */
import type { DType } from '../../../runtime/dtype.js';
import type { Node, PrimNode } from '../../ir/graph.js';
import type { Prim } from '../../ir/primitives.js';
import { ONNX_TYPE, type OnnxBuilder } from './builder.js';

/** Emits one node of primitive P: its operands' ONNX names in, its value's ONNX name out. */
export type OnnxRule<P extends Prim = Prim> =
  (b: OnnxBuilder, x: readonly string[], n: PrimNode<P>, operands: readonly Node[]) => string;

/** A primitive with no ONNX counterpart, and why. */
export interface NoOnnx {
  unsupported: string;
}

const simple =
  (op: string): OnnxRule =>
  (b, x) =>
    b.node(op, x);

const isFloatType = (d: DType) => d === 'float32' || d === 'float64';

/** Float-only ONNX operators are identities on integers (floor, ceil, round of an int32). */
const floatOnly =
  (op: string): OnnxRule =>
  (b, x, n) =>
    b.node(isFloatType(n.dtype) ? op : 'Identity', x);

/** `op` on int32 values, for ONNX reductions and ArgMax that do not accept bool. */
function asInt(b: OnnxBuilder, x: string, from: DType): string {
  return from === 'bool' ? b.node('Cast', [x], { to: { int: ONNX_TYPE.int32 } }) : x;
}

function reduce(op: string): OnnxRule<'sum' | 'prod' | 'max' | 'min'> {
  return (b, [x], n, [operand]) => {
    const axes = n.params.axes;
    const from = operand!.dtype;
    // ONNX Reduce* of empty axes reduces everything unless told not to; kiln's keeps the value.
    const r = b.node(op, [asInt(b, x!, from), b.ints(axes)], {
      keepdims: { int: 0 },
      noop_with_empty_axes: { int: 1 },
    });
    // max/min of bool return bool: reduce as int32 and cast back.
    return from === 'bool' && n.dtype === 'bool' ? b.node('Cast', [r], { to: { int: ONNX_TYPE.bool } }) : r;
  };
}

function argReduce(op: string): OnnxRule<'argmax' | 'argmin'> {
  return (b, [x], n, [operand]) => {
    const { axis } = n.params;
    // ONNX gives int64 indices (first occurrence, as kiln's); kiln's are int32.
    const r = b.node(op, [asInt(b, x!, operand!.dtype)], { axis: { int: axis }, keepdims: { int: 0 } });
    return b.node('Cast', [r], { to: { int: ONNX_TYPE.int32 } });
  };
}

/** kiln's remainder takes the divisor's sign (Python's `%`); ONNX Mod does that for integers only. */
const mod: OnnxRule = (b, [a, m], n) => {
  if (!isFloatType(n.dtype)) return b.node('Mod', [a!, m!], { fmod: { int: 0 } });
  const r = b.node('Mod', [a!, m!], { fmod: { int: 1 } });
  const zero = b.scalar(n.dtype, 0);
  const signsDiffer = b.node('Xor', [b.node('Less', [r, zero]), b.node('Less', [m!, zero])]);
  const fix = b.node('And', [b.node('Not', [b.node('Equal', [r, zero])]), signsDiffer]);
  return b.node('Where', [fix, b.node('Add', [r, m!]), r]);
};

/** The ONNX rule of every primitive, or why it has none. */
export const onnxRules: { [P in Prim]: OnnxRule<P> | NoOnnx } = {
  copy: simple('Identity'),
  neg: simple('Neg'),
  abs: simple('Abs'),
  sign: simple('Sign'),
  recip: simple('Reciprocal'),
  exp: simple('Exp'),
  log: simple('Log'),
  log1p: (b, [x], n) => b.node('Log', [b.node('Add', [x!, b.scalar(n.dtype, 1)])]),
  expm1: (b, [x], n) => b.node('Sub', [b.node('Exp', [x!]), b.scalar(n.dtype, 1)]),
  sqrt: simple('Sqrt'),
  rsqrt: (b, [x]) => b.node('Reciprocal', [b.node('Sqrt', [x!])]),
  sin: simple('Sin'),
  cos: simple('Cos'),
  tan: simple('Tan'),
  tanh: simple('Tanh'),
  erf: simple('Erf'),
  // ONNX has no Erfc: 1 - Erf, which loses the tail (0 where erfc(x) < 2^-25 for float32).
  erfc: (b, [x], n) => b.node('Sub', [b.scalar(n.dtype, 1), b.node('Erf', [x!])]),
  sigmoid: simple('Sigmoid'),
  floor: floatOnly('Floor'),
  ceil: floatOnly('Ceil'),
  // ONNX Round rounds halves to even, as kiln's does.
  round: floatOnly('Round'),
  not: simple('Not'),
  isnan: (b, [x], _n, [operand]) =>
    isFloatType(operand!.dtype) ? b.node('IsNaN', [x!]) : b.node('Not', [b.node('Equal', [x!, x!])]),

  add: simple('Add'),
  sub: simple('Sub'),
  mul: simple('Mul'),
  div: simple('Div'),
  pow: simple('Pow'),
  maximum: simple('Max'),
  minimum: simple('Min'),
  mod,
  lt: simple('Less'),
  le: simple('LessOrEqual'),
  eq: simple('Equal'),
  ne: (b, x) => b.node('Not', [b.node('Equal', x)]),
  and: simple('And'),
  or: simple('Or'),

  where: simple('Where'),
  cast: (b, [x], n) => b.node('Cast', [x!], { to: { int: ONNX_TYPE[n.params.dtype] } }),

  sum: reduce('ReduceSum'),
  prod: reduce('ReduceProd'),
  max: reduce('ReduceMax'),
  min: reduce('ReduceMin'),
  argmax: argReduce('ArgMax'),
  argmin: argReduce('ArgMin'),

  reshape: (b, [x], n) => b.node('Reshape', [x!, b.ints(n.params.shape)]),
  permute: (b, [x], n) => b.node('Transpose', [x!], { perm: { ints: n.params.perm } }),
  expand: (b, [x], n) => b.node('Expand', [x!, b.ints(n.params.shape)]),
  slice: (b, [x], n) => {
    const { starts, steps, sizes } = n.params;
    // ONNX's end is exclusive: one past the last element read (the start when none is).
    const ends = starts.map((s, d) => (sizes[d]! > 0 ? s + (sizes[d]! - 1) * steps[d]! + 1 : s));
    return b.node('Slice', [x!, b.ints(starts), b.ints(ends), b.ints(starts.map((_, d) => d)), b.ints(steps)]);
  },
  pad: (b, [x], n) => {
    const { before, after, value } = n.params;
    return b.node('Pad', [x!, b.ints([...before, ...after]), b.scalar(n.dtype, value)], {
      mode: { string: 'constant' },
    });
  },
  concat: (b, x, n) => b.node('Concat', x, { axis: { int: n.params.axis } }),
  matmul: simple('MatMul'),
  gather: (b, x, n) => b.node('GatherElements', x, { axis: { int: n.params.axis } }),
  scatterAdd: (b, x, n) =>
    b.node('ScatterElements', x, {
      axis: { int: n.params.axis },
      reduction: { string: 'add' },
    }),
  random: {
    unsupported:
      "kiln's counter-based random numbers (dropout, rand) have no ONNX equivalent that draws the same values; export in eval mode or pass the noise as an input",
  },
  iota: (b, _x, n) =>
    b.node('Range', [b.scalar('int32', 0), b.scalar('int32', n.params.n), b.scalar('int32', 1)]),
};

/**
 * The rule of node `n`'s primitive. Indexing the table by a primitive the compiler does not
 * know yields a union of rules it cannot call; the table's type pairs each rule with its
 * own primitive, so this is the one place they meet.
 */
export function onnxRuleOf(n: PrimNode): OnnxRule | NoOnnx {
  return onnxRules[n.op] as OnnxRule | NoOnnx;
}

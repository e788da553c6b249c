/**
 * Elementwise ops: type promotion and broadcasting in front of the elementwise primitives,
 * and the composites built from them (relu, gelu, silu, clamp, …).
 */
import { isDType, isFloat, type DType } from '../../runtime/dtype.js';
import { DTypeError } from '../../runtime/errors.js';
import { isElementwise, primitiveRules, type BinaryPrim, type UnaryPrim } from '../../compiler/ir/primitives.js';
import { broadcastShapes, sameShape } from '../../compiler/ir/shape.js';
import { apply } from '../dispatch.js';
import { operandDtype, resultType, type Scalar } from '../dtype.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { scalarTensor } from './creation.js';
import { castInt64 } from './int64.js';

function accepts(prim: UnaryPrim | BinaryPrim): readonly DType[] {
  const rule = primitiveRules[prim];
  return isElementwise(rule) ? rule.accepts : [];
}

/** `x` as a tensor of `dtype`: scalars become 0-d tensors, tensors are cast when needed. */
export function asTensor(x: TensorLike, dtype: DType): Tensor {
  if (x instanceof Tensor) return x.dtype === dtype ? x : cast(x, dtype);
  return scalarTensor(x, dtype);
}

/** `x` broadcast to `shape` as a view (no copy). */
export function expandTo(x: Tensor, shape: number[]): Tensor {
  return sameShape(x.shape, shape) ? x : apply('expand', [x], { shape });
}

function dtypeOf(x: TensorLike): DType | Scalar {
  return x instanceof Tensor ? x.dtype : x;
}

function checkOperand(op: string, x: unknown): void {
  if (!(x instanceof Tensor) && typeof x !== 'number' && typeof x !== 'boolean') {
    throw new DTypeError(`${op}: operands must be tensors, numbers or booleans (got ${x === null ? 'null' : typeof x})`);
  }
}

/** Applies a unary primitive, computing in the nearest dtype it accepts. */
export function unary(prim: UnaryPrim, x: Tensor): Tensor {
  checkOperand(prim, x);
  return apply(prim, [asTensor(x, operandDtype(x.dtype, accepts(prim)))], {});
}

/** Applies a binary primitive with promotion and broadcasting; `op` names it in errors. */
export function binary(prim: BinaryPrim, op: string, a: TensorLike, b: TensorLike): Tensor {
  checkOperand(op, a);
  checkOperand(op, b);
  const dtype = operandDtype(resultType(dtypeOf(a), dtypeOf(b)), accepts(prim));
  let ta = asTensor(a, dtype);
  let tb = asTensor(b, dtype);
  if (!sameShape(ta.shape, tb.shape)) {
    const shape = broadcastShapes(op, ta.shape, tb.shape);
    ta = expandTo(ta, shape);
    tb = expandTo(tb, shape);
  }
  return apply(prim, [ta, tb], {});
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', 'add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', 'sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', 'mul', a, b);
/** True division: integer operands give a float result, as in PyTorch. */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', 'div', a, b);

/**
 * a^b. A constant exponent of ±1..±4 or ±0.5 on a float tensor (and 2..4 on an int32 one)
 * is computed with multiplications and a square root instead of the pow primitive, which
 * took 30-50x as long as x·x·x over 4M float32 elements (bench/pow.ts). Eager and jit both
 * see the same primitives, so they stay bitwise equal; each form keeps pow's special values.
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (a instanceof Tensor && typeof b === 'number' && powFastPath(a.dtype, b)) return powByConstant(a, b);
  return binary('pow', 'pow', a, b);
}

function powFastPath(dtype: DType, b: number): boolean {
  if (dtype === 'float32' || dtype === 'float64') return b === 0.5 || b === -0.5 || (Number.isInteger(b) && b !== 0 && Math.abs(b) <= 4);
  // int32 keeps powInt32's truncation for negative exponents: only positive ones here.
  return dtype === 'int32' && Number.isInteger(b) && b >= 2 && b <= 4;
}

function powByConstant(x: Tensor, b: number): Tensor {
  const n = Math.abs(b);
  let p: Tensor;
  if (n === 0.5) {
    // sqrt(-0) is -0 and sqrt(-Inf) NaN, where pow gives +0 and +Inf.
    p = where(eq(x, -Infinity), Infinity, add(sqrt(x), 0));
  } else if (n === 1) {
    // x^1 is x, and x^-1 one reciprocal; pow's result is still a new tensor.
    p = b < 0 ? x : mul(x, 1);
  } else {
    const sq = mul(x, x);
    p = n === 2 ? sq : n === 3 ? mul(sq, x) : mul(sq, sq);
  }
  // 1 / x^n keeps pow's signs: (-0)^-3 = -Inf, (-0)^-2 = +Inf, (-Inf)^-1 = -0.
  return b < 0 ? reciprocal(p) : p;
}

/** Remainder with the divisor's sign (Python's %). */
export const remainder = (a: TensorLike, b: TensorLike): Tensor => binary('mod', 'remainder', a, b);
/** Elementwise maximum; NaN wins. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', 'maximum', a, b);
/** Elementwise minimum; NaN wins. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', 'minimum', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', 'lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', 'le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', 'gt', b, a);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('le', 'ge', b, a);
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', 'eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', 'ne', a, b);
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binary('and', 'logicalAnd', a, b);
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binary('or', 'logicalOr', a, b);

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const reciprocal = (x: Tensor): Tensor => unary('recip', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const tan = (x: Tensor): Tensor => unary('tan', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const erf = (x: Tensor): Tensor => unary('erf', x);
/** The complementary error function 1 - erf(x), accurate where erf(x) is near 1. */
export const erfc = (x: Tensor): Tensor => unary('erfc', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const floor = (x: Tensor): Tensor => unary('floor', x);
export const ceil = (x: Tensor): Tensor => unary('ceil', x);
/** Rounds half to even, as PyTorch does. */
export const round = (x: Tensor): Tensor => unary('round', x);
export const logicalNot = (x: Tensor): Tensor => {
  checkOperand('logicalNot', x);
  return unary('not', x);
};
export const isnan = (x: Tensor): Tensor => unary('isnan', x);

/** x². */
export const square = (x: Tensor): Tensor => mul(x, x);
/** max(x, 0), NaN kept; its gradient is 0 at x = 0, as in PyTorch. */
export const relu = (x: Tensor): Tensor => where(le(x, 0), 0, x);
/** x · sigmoid(x). */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));

/** GELU: x·Φ(x) with the exact erf form, or PyTorch's tanh approximation. */
export function gelu(input: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  // Integer input is computed in float32, as exp and tanh compute it (the tanh form's x³
  // would otherwise wrap in int32: 46341³ gave 0).
  const x = isFloat(input.dtype) ? input : cast(input, 'float32');
  if (approximate === 'tanh') {
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  if (approximate !== 'none') throw new DTypeError(`gelu: approximate must be 'none' or 'tanh' (got ${String(approximate)})`);
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/** Limits x to [min, max]; either bound may be omitted. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkOperand('clamp', x);
  for (const bound of [min, max]) if (bound !== undefined && bound !== null) checkOperand('clamp', bound);
  let out = x;
  if (min !== undefined && min !== null) out = maximum(out, min);
  if (max !== undefined && max !== null) out = minimum(out, max);
  return out === x ? x.clone() : out;
}

/** Picks `a` where `cond` is true, else `b`, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkOperand('where', cond);
  checkOperand('where', a);
  checkOperand('where', b);
  const dtype = resultType(dtypeOf(a), dtypeOf(b));
  let c = asTensor(cond, 'bool');
  let ta = asTensor(a, dtype);
  let tb = asTensor(b, dtype);
  const shape = broadcastShapes('where', broadcastShapes('where', c.shape, ta.shape), tb.shape);
  c = expandTo(c, shape);
  ta = expandTo(ta, shape);
  tb = expandTo(tb, shape);
  return apply('where', [c, ta, tb], {});
}

/**
 * Converts to `dtype`; returns `x` itself when it already has it. Floats to int32 or uint8
 * truncate toward zero and wrap (PyTorch's CPU: -1.0 -> 255 as uint8); 'int64' is stored
 * as int32 and range-checked instead.
 */
export function cast(x: Tensor, dtype: DType | 'int64'): Tensor {
  if (dtype === 'int64') return castInt64(x);
  if (!isDType(dtype)) throw new DTypeError(`cast: unknown dtype ${String(dtype)} (valid: float16, float32, float64, int32, uint8, bool, int64)`);
  if (x.dtype === dtype) return x;
  return apply('cast', [x], { dtype });
}

/**
 * Elementwise ops as records with scalar float64 references (int32 ones exact via BigInt),
 * input domains per dtype and hand-worked special values (NaN, ±Inf, -0, int32 wrap-around).
 * elementwise.test.ts drives them over every dtype, broadcasting and view; the op table
 * (./elementwise.ts) runs them under jit and on every backend.
 */
import { roundToHalf } from '../../../../runtime/half.js';
import * as k from '../../../../src/index.js';
import type { DType, Tensor, TensorLike } from '../../../../src/index.js';
import { uniform } from '../../../helpers.js';
import { randInt } from '../../random-inputs.js';
import type { RefArray } from '../../ref-arrays.js';

// ---------------------------------------------------------------------------------------
// Reference scalar functions (float64; int32 ones exact via BigInt).

/** erf: 2/√π·e^(-x²)·Σ (2x²)^n·x/(2n+1)!! has only positive terms, so nothing cancels. */
export function erfRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return x;
  const a = Math.abs(x);
  // erfc(6) ≈ 2e-17 is below half an ulp of 1.
  if (a >= 6) return Math.sign(x);
  let term = a, sum = a;
  for (let n = 1; n < 500 && term > 1e-18 * sum; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
  return x < 0 ? -Math.min(r, 1) : Math.min(r, 1);
}

/**
 * erfc: 1 - erf below 1/2 (erfc > 0.47 there, so nothing cancels), else Laplace's continued
 * fraction summed from its 2000th term back, converged to the last bit from 0.5 on.
 */
function erfcRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0.5) return 1 - erfRef(x);
  let f = 0;
  for (let n = 2000; n >= 1; n--) f = n / 2 / (x + f);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + f);
}

export function roundHalfEvenRef(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f; // exact for doubles
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

const nan = (...x: number[]) => x.some(Number.isNaN);
const geluErf = (x: number) => 0.5 * x * (1 + erfRef(x / Math.SQRT2));
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
/** PyTorch's floating remainder: fmod, then moved to the divisor's sign. */
const remainderRef = (a: number, b: number) => {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};
/** C's pow: 1^y = 1 and (-1)^±Inf = 1 even where Math.pow says NaN. */
const powRef = (a: number, b: number) => (a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b));
const wrap32 = (v: bigint) => Number(BigInt.asIntN(32, v));
/** A uint8 value: an integer taken modulo 256 (rounded first where a float domain drew it); non-finite gives 0. */
const wrap8 = (v: number) => (Number.isFinite(v) ? (((Math.round(v) % 256) + 256) % 256) : 0);
const big = BigInt;
/** Integer power as repeated int32 multiplication; negative exponents truncate 1/a^|b| toward 0. */
const powInt = (a: number, b: number) =>
  b >= 0 ? wrap32(big(a) ** big(b)) : a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0;

// ---------------------------------------------------------------------------------------
// Input domains.

type Domain = (next: () => number, n: number) => number[];
const uni = (lo: number, hi: number): Domain => (next, n) => uniform(next, n, lo, hi);
const logUni = (lo: number, hi: number): Domain => (next, n) =>
  Array.from({ length: n }, () => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * next()));
const signed = (d: Domain): Domain => (next, n) => d(next, n).map((v) => (next() < 0.5 ? -v : v));
const ints = (lo: number, hi: number): Domain => (next, n) => Array.from({ length: n }, () => randInt(next, lo, hi));
/** `d`, with about a fraction `p` of its values replaced by picks from `extra`. */
const sprinkle = (d: Domain, extra: number[], p = 0.2): Domain => (next, n) =>
  d(next, n).map((v) => (next() < p ? extra[Math.floor(next() * extra.length)]! : v));
const INT32 = ints(-(2 ** 31), 2 ** 31 - 1);
/** Small values on a half-integer grid mixed with uniform ones, so ties and exact .5 cases occur. */
const grid = sprinkle(uni(-4, 4), [-2.5, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2.5], 0.5);

// ---------------------------------------------------------------------------------------
// The records.

export interface Tol {
  rtol: number;
  atol: number;
}
type Row = (number | boolean)[];

export interface ElementwiseOp {
  name: string;
  arity: 1 | 2 | 3;
  /** The kiln call; operands after the first may be JS scalars for arity > 1. */
  call: (...x: TensorLike[]) => Tensor;
  /** float64 semantics; comparisons return 0/1. */
  ref: (...x: number[]) => number;
  /** Exact int32 semantics where float64 arithmetic would not wrap like int32. */
  refInt?: (...x: number[]) => number;
  /** One domain per operand for float inputs. */
  domain: Domain[];
  /** Domains for int32 (and bool) inputs; default: the float domain rounded. */
  intDomain?: Domain[];
  /** Input dtypes the op takes. */
  dtypes: DType[];
  /** Result dtype for an input dtype (default: the same). */
  out?: (dt: DType) => DType;
  tol?: Partial<Record<'float16' | 'float32' | 'float64', Tol>>;
  /** Hand-worked rows for float inputs: operands then the exact result (-0 counts). */
  special?: Row[];
  /** Hand-worked rows for int32 inputs. */
  int32Special?: Row[];
}

const FLOATS: DType[] = ['float16', 'float32', 'float64'];
const NUM: DType[] = ['float16', 'float32', 'float64', 'int32', 'uint8'];
const NUM_BOOL: DType[] = ['float16', 'float32', 'float64', 'int32', 'uint8', 'bool'];
/** Arithmetic on bool computes as int32. */
const promote = (dt: DType): DType => (dt === 'bool' ? 'int32' : dt);
/** Float-only math promotes int32, uint8 and bool to float32. */
const floatOut = (dt: DType): DType => (dt === 'int32' || dt === 'uint8' || dt === 'bool' ? 'float32' : dt);
const boolOut = (): DType => 'bool';

const I = Infinity;
const unaryCall = (f: (x: Tensor) => Tensor) => (x: TensorLike) => f(x as Tensor);

/** A float-only unary math op (int32 input computes in float32). */
function math(name: string, f: (x: Tensor) => Tensor, ref: (x: number) => number, domain: Domain, special: Row[], tol?: ElementwiseOp['tol']): ElementwiseOp {
  return { name, arity: 1, call: unaryCall(f), ref, domain: [domain], dtypes: NUM, out: floatOut, special, ...(tol ? { tol } : {}) };
}

function compare(name: string, f: (a: TensorLike, b: TensorLike) => Tensor, ref: (a: number, b: number) => boolean, special: Row[]): ElementwiseOp {
  return {
    name, arity: 2, call: f, ref: (a, b) => (ref(a, b) ? 1 : 0), domain: [grid, grid], intDomain: [ints(-2, 2), ints(-2, 2)],
    dtypes: NUM_BOOL, out: boolOut, special,
  };
}

export const elementwiseOps: ElementwiseOp[] = [
  {
    name: 'add', arity: 2, call: k.add, ref: (a, b) => a + b, refInt: (a, b) => wrap32(big(a) + big(b)),
    domain: [uni(-100, 100), uni(-100, 100)], intDomain: [INT32, INT32], dtypes: NUM_BOOL, out: promote,
    special: [[I, -I, NaN], [I, 1, I], [-0, -0, -0], [-0, 0, 0], [NaN, 1, NaN]],
    int32Special: [[2147483647, 1, -2147483648], [-2147483648, -1, 2147483647]],
  },
  {
    name: 'sub', arity: 2, call: k.sub, ref: (a, b) => a - b, refInt: (a, b) => wrap32(big(a) - big(b)),
    domain: [uni(-100, 100), uni(-100, 100)], intDomain: [INT32, INT32], dtypes: NUM, out: promote,
    special: [[I, I, NaN], [-0, 0, -0], [0, -0, 0], [0, 0, 0], [1, NaN, NaN], [-I, I, -I]],
    int32Special: [[-2147483648, 1, 2147483647], [0, -2147483648, -2147483648]],
  },
  {
    name: 'mul', arity: 2, call: k.mul, ref: (a, b) => a * b, refInt: (a, b) => wrap32(big(a) * big(b)),
    domain: [uni(-100, 100), uni(-100, 100)], intDomain: [INT32, INT32], dtypes: NUM_BOOL, out: promote,
    special: [[-0, 1, -0], [0, -1, -0], [-0, -0, 0], [I, 0, NaN], [-I, -2, I], [NaN, 0, NaN]],
    int32Special: [[65536, 65536, 0], [46341, 46341, -2147479015], [-2147483648, -1, -2147483648]],
  },
  {
    // True division: int32 operands give float32.
    name: 'div', arity: 2, call: k.div, ref: (a, b) => a / b,
    domain: [uni(-10, 10), signed(uni(0.1, 10))], intDomain: [ints(-1000, 1000), signed(ints(1, 50))], dtypes: NUM, out: floatOut,
    special: [[1, 0, I], [-1, 0, -I], [1, -0, -I], [0, 0, NaN], [I, I, NaN], [1, I, 0], [-1, I, -0], [-0, 5, -0]],
    int32Special: [[1, 0, I], [-1, 0, -I], [0, 0, NaN], [7, 2, 3.5], [-7, 2, -3.5]],
  },
  {
    name: 'pow', arity: 2, call: k.pow, ref: powRef, refInt: powInt,
    domain: [uni(0.01, 4), uni(-3, 3)], intDomain: [ints(-9, 9), ints(0, 9)], dtypes: NUM,
    special: [
      [0, 0, 1], [NaN, 0, 1], [NaN, -0, 1], [1, NaN, 1], [1, I, 1], [-1, I, 1], [-1, -I, 1], [0, -1, I], [-0, -1, -I],
      [-8, 1 / 3, NaN], [0.5, I, 0], [2, -I, 0], [-2, 3, -8], [-0, 3, -0], [I, -1, 0], [-I, 3, -I], [2, NaN, NaN],
    ],
    int32Special: [[2, 31, -2147483648], [2, 32, 0], [100003, 4, -679156783], [-3, 3, -27], [0, 0, 1], [1, -5, 1], [-1, -3, -1], [3, -1, 0]],
  },
  {
    name: 'remainder', arity: 2, call: k.remainder, ref: remainderRef,
    domain: [uni(-20, 20), signed(uni(0.5, 5))], intDomain: [ints(-1000, 1000), signed(ints(1, 50))], dtypes: NUM,
    special: [[5, 3, 2], [-5, 3, 1], [5, -3, -1], [-5, -3, -2], [5.5, 2, 1.5], [-5.5, 2, 0.5], [5, 0, NaN], [I, 2, NaN], [5, I, 5], [NaN, 2, NaN]],
    int32Special: [[7, 3, 1], [-7, 3, 2], [7, -3, -2], [-7, -3, -1], [-2147483648, 3, 1]],
  },
  {
    name: 'maximum', arity: 2, call: k.maximum, ref: (a, b) => (nan(a, b) ? NaN : a > b ? a : b),
    domain: [grid, grid], intDomain: [INT32, INT32], dtypes: NUM_BOOL, out: promote,
    special: [[NaN, 1, NaN], [1, NaN, NaN], [-I, 1, 1], [I, NaN, NaN], [-I, -I, -I], [2, -3, 2]],
  },
  {
    name: 'minimum', arity: 2, call: k.minimum, ref: (a, b) => (nan(a, b) ? NaN : a < b ? a : b),
    domain: [grid, grid], intDomain: [INT32, INT32], dtypes: NUM_BOOL, out: promote,
    special: [[NaN, 1, NaN], [1, NaN, NaN], [I, 1, 1], [-I, NaN, NaN], [2, -3, -3]],
  },
  {
    name: 'neg', arity: 1, call: unaryCall((x) => x.neg()), ref: (x) => -x, refInt: (x) => wrap32(-big(x)),
    domain: [uni(-10, 10)], intDomain: [INT32], dtypes: NUM,
    special: [[0, -0], [-0, 0], [I, -I], [NaN, NaN]],
    int32Special: [[-2147483648, -2147483648], [2147483647, -2147483647], [0, 0]],
  },
  {
    name: 'abs', arity: 1, call: unaryCall((x) => x.abs()), ref: Math.abs, refInt: (x) => wrap32(x < 0 ? -big(x) : big(x)),
    domain: [uni(-10, 10)], intDomain: [INT32], dtypes: NUM,
    special: [[-0, 0], [-I, I], [NaN, NaN], [-2.5, 2.5]],
    int32Special: [[-2147483648, -2147483648], [-7, 7]],
  },
  {
    name: 'sign', arity: 1, call: unaryCall((x) => x.sign()), ref: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : x),
    domain: [sprinkle(uni(-10, 10), [0, -0])], dtypes: NUM,
    special: [[-0, -0], [0, 0], [NaN, NaN], [-I, -1], [I, 1], [-2.5, -1], [1e-30, 1]],
    int32Special: [[-2147483648, -1], [0, 0], [9, 1]],
  },
  math('reciprocal', (x) => x.reciprocal(), (x) => 1 / x, signed(logUni(0.01, 100)), [[0, I], [-0, -I], [I, 0], [-I, -0], [NaN, NaN], [4, 0.25]]),
  math('exp', (x) => x.exp(), Math.exp, uni(-80, 80), [[-I, 0], [I, I], [NaN, NaN], [0, 1], [-0, 1]]),
  math('log', (x) => x.log(), Math.log, logUni(1e-6, 1e6), [[0, -I], [-0, -I], [-1, NaN], [I, I], [1, 0], [NaN, NaN], [-I, NaN]]),
  math('log1p', (x) => x.log1p(), Math.log1p, sprinkle(uni(-0.99, 10), [1e-8, -1e-8, 3e-5, 0], 0.3), [[-1, -I], [-2, NaN], [-0, -0], [0, 0], [I, I], [NaN, NaN]]),
  math('expm1', (x) => x.expm1(), Math.expm1, sprinkle(uni(-10, 10), [1e-8, -1e-8, 3e-5, 0], 0.3), [[-0, -0], [0, 0], [-I, -1], [I, I], [NaN, NaN]]),
  math('sqrt', (x) => x.sqrt(), Math.sqrt, logUni(1e-6, 1e6), [[-1, NaN], [-0, -0], [0, 0], [I, I], [-I, NaN], [4, 2], [NaN, NaN]]),
  math('rsqrt', (x) => x.rsqrt(), (x) => 1 / Math.sqrt(x), logUni(1e-6, 1e6), [[0, I], [-0, -I], [I, 0], [-1, NaN], [4, 0.5], [NaN, NaN]]),
  math('sin', (x) => x.sin(), Math.sin, uni(-100, 100), [[-0, -0], [0, 0], [I, NaN], [-I, NaN], [NaN, NaN]]),
  math('cos', (x) => x.cos(), Math.cos, uni(-100, 100), [[-0, 1], [0, 1], [I, NaN], [NaN, NaN]]),
  math('tan', (x) => x.tan(), Math.tan, uni(-1.5, 1.5), [[-0, -0], [0, 0], [I, NaN], [NaN, NaN]]),
  math('tanh', (x) => x.tanh(), Math.tanh, uni(-10, 10), [[-0, -0], [I, 1], [-I, -1], [NaN, NaN], [30, 1]]),
  // float64 erf: kiln's series is up to ~8e-15 (~70 ulp) off near |x| = 2.5; the bound allows
  // that plus the reference's own ~12 ulp.
  math('erf', (x) => x.erf(), erfRef, uni(-5, 5), [[-0, -0], [0, 0], [I, 1], [-I, -1], [NaN, NaN], [10, 1]], { float64: { rtol: 2e-14, atol: 1e-16 } }),
  // float64 erfc: e^(-x^2) carries x^2's rounding, up to ~1.4e-14 relative near x = 11.6.
  math('erfc', (x) => x.erfc(), erfcRef, uni(-4, 12), [[-0, 1], [0, 1], [I, 0], [-I, 2], [NaN, NaN], [30, 0], [-10, 2]],
    { float64: { rtol: 3e-14, atol: 0 } }),
  math('sigmoid', (x) => x.sigmoid(), (x) => 1 / (1 + Math.exp(-x)), uni(-30, 30), [[-I, 0], [I, 1], [0, 0.5], [-0, 0.5], [NaN, NaN]]),
  {
    name: 'relu', arity: 1, call: unaryCall((x) => x.relu()), ref: (x) => (Number.isNaN(x) ? NaN : x > 0 ? x : 0),
    domain: [uni(-5, 5)], dtypes: NUM, special: [[NaN, NaN], [-I, 0], [I, I], [-3, 0], [2.5, 2.5]], int32Special: [[-2147483648, 0], [5, 5]],
  },
  // GELU loses absolute (not relative) accuracy for negative x: 1 + erf(x/√2) cancels, so
  // erf's absolute error, times |x|/2, is what remains (≤ 3e-14 in float64 for the erf above).
  // In float16 every step of the composition rounds to half: 1 + erf(x) cancels to a few
  // bits for x below -3 (half spacing near 1 is 2^-11, times |x|/2), and x·sigmoid(x)
  // underflows through half subnormals for x below -10.
  math('gelu', (x) => x.gelu(), geluErf, uni(-6, 6), [[0, 0], [NaN, NaN], [I, I]],
    { float16: { rtol: 2 ** -8, atol: 4e-3 }, float32: { rtol: 1e-5, atol: 2e-6 }, float64: { rtol: 1e-13, atol: 3e-14 } }),
  math('gelu(tanh)', (x) => x.gelu('tanh'), geluTanh, uni(-6, 6), [[0, 0], [NaN, NaN], [I, I]],
    { float16: { rtol: 2 ** -8, atol: 4e-3 }, float32: { rtol: 1e-5, atol: 2e-6 }, float64: { rtol: 1e-13, atol: 1e-14 } }),
  math('silu', (x) => x.silu(), (x) => x / (1 + Math.exp(-x)), uni(-20, 20), [[0, 0], [NaN, NaN], [I, I]],
    { float16: { rtol: 2 ** -9, atol: 2e-5 } }),
  {
    name: 'square', arity: 1, call: unaryCall((x) => x.square()), ref: (x) => x * x, refInt: (x) => wrap32(big(x) * big(x)),
    domain: [uni(-100, 100)], intDomain: [INT32], dtypes: NUM,
    special: [[-0, 0], [-I, I], [NaN, NaN]], int32Special: [[65536, 0], [46341, -2147479015], [-3, 9]],
  },
  {
    name: 'floor', arity: 1, call: unaryCall((x) => x.floor()), ref: Math.floor, domain: [grid], dtypes: NUM,
    special: [[-0, -0], [-0.5, -1], [0.5, 0], [I, I], [-I, -I], [NaN, NaN], [-2, -2]], int32Special: [[-7, -7]],
  },
  {
    name: 'ceil', arity: 1, call: unaryCall((x) => x.ceil()), ref: Math.ceil, domain: [grid], dtypes: NUM,
    special: [[-0.5, -0], [0.5, 1], [-0, -0], [-I, -I], [NaN, NaN], [-1.5, -1]], int32Special: [[-7, -7]],
  },
  {
    name: 'round', arity: 1, call: unaryCall((x) => x.round()), ref: roundHalfEvenRef, domain: [grid], dtypes: NUM,
    special: [
      [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, -0], [-1.5, -2], [-2.5, -2], [-0.4, -0], [-0, -0], [0.49999997, 0],
      [8388609, 8388609], [I, I], [-I, -I], [NaN, NaN],
    ],
    int32Special: [[2147483647, 2147483647], [-3, -3]],
  },
  {
    name: 'clamp', arity: 1, call: unaryCall((x) => x.clamp(-2, 3)), ref: (x) => (Number.isNaN(x) ? NaN : Math.min(Math.max(x, -2), 3)),
    // Not uint8: a bound of -2 has no uint8 value.
    domain: [uni(-5, 5)], dtypes: ['float32', 'float64', 'int32'], special: [[NaN, NaN], [-I, -2], [I, 3], [-0, -0], [2.5, 2.5]], int32Special: [[-2147483648, -2], [7, 3]],
  },
  {
    name: 'isnan', arity: 1, call: unaryCall((x) => x.isnan()), ref: (x) => (Number.isNaN(x) ? 1 : 0),
    domain: [sprinkle(uni(-5, 5), [NaN, I, -I])], dtypes: NUM_BOOL, out: boolOut, special: [[NaN, true], [I, false], [-0, false]],
  },
  compare('lt', k.lt, (a, b) => a < b, [[NaN, NaN, false], [NaN, 1, false], [1, NaN, false], [-0, 0, false], [-I, I, true]]),
  compare('le', k.le, (a, b) => a <= b, [[NaN, NaN, false], [-0, 0, true], [I, I, true]]),
  compare('gt', k.gt, (a, b) => a > b, [[NaN, NaN, false], [1, NaN, false], [I, I, false], [0, -0, false], [I, -I, true]]),
  compare('ge', k.ge, (a, b) => a >= b, [[NaN, NaN, false], [-0, 0, true], [I, I, true], [NaN, -I, false]]),
  compare('eq', k.eq, (a, b) => a === b, [[NaN, NaN, false], [-0, 0, true], [I, I, true], [I, -I, false]]),
  compare('ne', k.ne, (a, b) => a !== b, [[NaN, NaN, true], [-0, 0, false], [I, I, false], [NaN, 1, true]]),
  {
    name: 'logicalAnd', arity: 2, call: k.logicalAnd, ref: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
    domain: [sprinkle(grid, [0]), sprinkle(grid, [0])], dtypes: NUM_BOOL, out: boolOut,
    special: [[NaN, 1, true], [-0, 1, false], [I, 0, false], [0.25, -3, true]],
  },
  {
    name: 'logicalOr', arity: 2, call: k.logicalOr, ref: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
    domain: [sprinkle(grid, [0]), sprinkle(grid, [0])], dtypes: NUM_BOOL, out: boolOut,
    special: [[-0, 0, false], [NaN, 0, true], [0, -I, true]],
  },
  {
    name: 'logicalNot', arity: 1, call: unaryCall((x) => x.logicalNot()), ref: (x) => (x === 0 ? 1 : 0),
    domain: [sprinkle(grid, [0])], dtypes: NUM_BOOL, out: boolOut, special: [[NaN, false], [-0, true], [0.25, false]],
  },
  {
    // The condition is computed (c > 0), so `where` is checked across dtypes and broadcasting too.
    name: 'where', arity: 3, call: (c, a, b) => k.where(k.gt(c, 0), a, b), ref: (c, a, b) => (c > 0 ? a : b),
    domain: [uni(-1, 1), uni(-10, 10), uni(-10, 10)], intDomain: [ints(-1, 1), INT32, INT32], dtypes: NUM_BOOL,
    special: [[1, NaN, 2, NaN], [0, NaN, -0, -0], [NaN, 1, 2, 2], [1, -0, 3, -0], [-1, I, -I, -I]],
  },
];

// ---------------------------------------------------------------------------------------
// Drivers.

export const outDtype = (op: ElementwiseOp, dt: DType): DType => (op.out ? op.out(dt) : dt);

/** The reference result of `op` on stored operand values, rounded as the result dtype stores it. */
export function expected(op: ElementwiseOp, dt: DType, xs: number[]): number {
  const v = (dt === 'int32' || dt === 'uint8' || dt === 'bool') && op.refInt ? op.refInt(...xs) : op.ref(...xs);
  switch (outDtype(op, dt)) {
    case 'float16': return roundToHalf(v);
    case 'float32': return Math.fround(v);
    case 'bool': return v !== 0 ? 1 : 0;
    case 'uint8': return wrap8(v);
    default: return v;
  }
}

export function tolerance(op: ElementwiseOp, dt: DType): Tol {
  const out = outDtype(op, dt);
  if (out === 'float32') return op.tol?.float32 ?? { rtol: 1e-6, atol: 1e-7 };
  if (out === 'float64') return op.tol?.float64 ?? { rtol: 1e-14, atol: 1e-15 };
  // One half ulp (2^-11 relative; 2^-24 absolute among subnormals): kiln rounds its float32
  // kernels' results to half, the reference its float64 values.
  if (out === 'float16') return op.tol?.float16 ?? { rtol: 2 ** -10, atol: 2 ** -24 };
  return { rtol: 0, atol: 0 };
}

/** Values for operand `i` of `op`, as dtype `dt` would hold them (float32-rounded, integers, 0/1). */
function draw(op: ElementwiseOp, dt: DType, i: number, n: number, next: () => number): number[] {
  const isInt = dt === 'int32' || dt === 'uint8' || dt === 'bool';
  const raw = isInt && op.intDomain ? op.intDomain[i]!(next, n) : op.domain[i]!(next, n);
  switch (dt) {
    case 'float16': return raw.map(roundToHalf);
    case 'float32': return raw.map(Math.fround);
    case 'float64': return raw;
    // Non-finite values have no int32 form; `+ 0` turns -0 into the 0 an Int32Array stores.
    case 'int32': return raw.map((v) => (Number.isFinite(v) ? Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), Math.round(v))) + 0 : 0));
    case 'uint8': return raw.map(wrap8);
    case 'bool': return raw.map((v) => (Math.round(v) !== 0 ? 1 : 0));
  }
}

/** A random operand of `shape`: the kiln tensor and the same values as a reference array. */
export function operand(op: ElementwiseOp, dt: DType, i: number, shape: number[], next: () => number): { t: Tensor; ref: RefArray } {
  const n = shape.reduce((p, d) => p * d, 1);
  const values = draw(op, dt, i, n, next);
  return { t: k.tensor(values, { dtype: dt }).reshape(shape), ref: { shape, values } };
}

/** A JS scalar for operand `i`: what a weak scalar of this kind contributes once stored as `dt`. */
export function scalarOperand(op: ElementwiseOp, dt: DType, i: number, next: () => number): { s: number | boolean; ref: RefArray } {
  const [v] = draw(op, dt, i, 1, next) as [number];
  return { s: dt === 'bool' ? v !== 0 : v, ref: { shape: [], values: [v] } };
}

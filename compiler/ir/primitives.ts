/**
 * The primitive ops: every fact about each one lives in its entry of `primitiveRules`.
 * The table is typed over every `Prim`, so adding a primitive without a rule fails to
 * compile. Everything kiln offers beyond these (softmax, gelu, linear, conv…) is built
 * from them, so the tracer and the fuser see through it.
 *
 * Elementwise primitives take operands of one shape and one dtype: broadcasting and type
 * promotion happen before them, as explicit `expand` and `cast` nodes.
 */
import { isInteger, type DType } from '../../runtime/dtype.js';

/** Elementwise primitives of one operand. */
export type UnaryPrim =
  | 'copy' | 'neg' | 'abs' | 'sign' | 'recip' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt'
  | 'sin' | 'cos' | 'tan' | 'tanh' | 'erf' | 'sigmoid' | 'floor' | 'ceil' | 'round' | 'not' | 'isnan';

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
  /** Uniform float32 in [0, 1) from the counter-based generator. */
  random: { shape: number[]; seed: number; offset: number };
  /** int32 0..n-1. */
  iota: { n: number };
}

/** The parameter object of primitive P (empty for primitives without parameters). */
export type Params<P extends Prim> = P extends keyof ParamsOf ? ParamsOf[P] : Record<string, never>;

/** A JS expression renderer: operand expressions in, expression out. */
type Render = (args: string[], dtype: DType) => string;

/** Elementwise rule: scalar meaning for the reference evaluator, and its JS rendering. */
export interface ElementwiseRule {
  kind: 'unary' | 'binary' | 'ternary';
  /** Operand dtypes accepted (all operands share one dtype; `where`'s condition is bool). */
  accepts: readonly DType[];
  /** Result dtype when it is not the operand dtype. */
  result?: DType;
  /** Reference semantics in float64; storing into the result's typed array rounds it. */
  ref: (...x: number[]) => number;
  /** int32 semantics where float64 arithmetic would not wrap like int32 does. */
  refInt?: (...x: number[]) => number;
  /** JS expression computing the result exactly as the result dtype would store it. */
  js: Render;
}

/** Reduction rule. */
export interface ReduceRule {
  kind: 'reduce';
  accepts: readonly DType[];
  /** Result dtype for an operand dtype. */
  result: (dtype: DType) => DType;
  /** True when an empty reduction has no value (max of nothing). */
  needsElements: boolean;
}

/** Rules of the other structured primitives: their shape logic lives with the lowering. */
export interface StructuredRule {
  kind: 'cast' | 'view' | 'pad' | 'concat' | 'matmul' | 'gather' | 'scatterAdd' | 'random' | 'iota';
}

/** The rule record of one primitive. */
export type PrimRule = ElementwiseRule | ReduceRule | StructuredRule;

const NUM: readonly DType[] = ['float32', 'float64', 'int32', 'uint8'];
const FLOAT: readonly DType[] = ['float32', 'float64'];
const ALL: readonly DType[] = ['float32', 'float64', 'int32', 'uint8', 'bool'];
const BOOL: readonly DType[] = ['bool'];

/** Rounds a float64 expression to the dtype's stored value. */
function round(expr: string, dtype: DType): string {
  switch (dtype) {
    case 'float32': return `Math.fround(${expr})`;
    case 'int32': return `((${expr}) | 0)`;
    // `& 255` is the value modulo 256 for any integral double (ToInt32 is exact modular arithmetic).
    case 'uint8': return `((${expr}) & 255)`;
    default: return expr;
  }
}

/** A float math function: our float32 kernels (M.*) for float32, Math.* for float64. */
function mathFn(name: string, ref: (x: number) => number): ElementwiseRule {
  return {
    kind: 'unary', accepts: FLOAT, ref,
    js: ([x], dt) => (dt === 'float32' ? `M.${name}(${x})` : `M.${name}64(${x})`),
  };
}

function compare(ref: (a: number, b: number) => boolean, op: string): ElementwiseRule {
  return { kind: 'binary', accepts: ALL, result: 'bool', ref: (a, b) => (ref(a, b) ? 1 : 0), js: ([a, b]) => `(${a} ${op} ${b} ? 1 : 0)` };
}

/** Reference erf (Abramowitz–Stegun 7.1.26 is too coarse, so a series / continued fraction). */
function refErf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return x;
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  let r: number;
  if (a < 2.5) {
    // Maclaurin series: converges fast and exactly enough for |x| < 2.5 in float64.
    let term = a, sum = a;
    for (let n = 1; n < 200; n++) {
      term *= -a * a / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // Continued fraction for erfc, accurate for larger |x|.
    let f = 0;
    for (let n = 60; n >= 1; n--) f = (n / 2) / (a + f);
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  }
  return x < 0 ? -r : r;
}

function refRoundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** pow with C's (and PyTorch's) special cases where Math.pow differs: 1^y = 1 and (-1)^±Inf = 1, even for NaN y. */
export function powC(a: number, b: number): number {
  return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
}

/**
 * int32 power as repeated int32 multiplication, so it wraps like C (Math.pow loses the low
 * bits once a^b passes 2^53). Negative exponents give 1/a^|b| truncated toward zero.
 */
export function powInt32(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b & 1 ? -1 : 1) : 0;
  let r = 1;
  for (let e = b, x = a; e > 0; e >>>= 1, x = Math.imul(x, x)) if (e & 1) r = Math.imul(r, x);
  return r;
}

/** PyTorch sums and multiplies bool and uint8 in int64, which kiln stores as int32. */
function countResult(dtype: DType): DType {
  return dtype === 'bool' || dtype === 'uint8' ? 'int32' : dtype;
}

/** The rule of every primitive. */
export const primitiveRules: { [P in Prim]: PrimRule } = {
  copy: { kind: 'unary', accepts: ALL, ref: (x) => x, js: ([x]) => x },
  neg: {
    kind: 'unary', accepts: NUM, ref: (x) => -x,
    js: ([x], dt) => (dt === 'int32' ? `((-${x}) | 0)` : dt === 'uint8' ? `((-${x}) & 255)` : `(-${x})`),
  },
  // |x| of a uint8 is x itself.
  abs: { kind: 'unary', accepts: NUM, ref: Math.abs, js: ([x], dt) => (dt === 'int32' ? `(Math.abs(${x}) | 0)` : `Math.abs(${x})`) },
  sign: { kind: 'unary', accepts: NUM, ref: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), js: ([x]) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : ${x})` },
  recip: { kind: 'unary', accepts: FLOAT, ref: (x) => 1 / x, js: ([x], dt) => round(`1 / ${x}`, dt) },
  exp: mathFn('exp', Math.exp),
  log: mathFn('log', Math.log),
  log1p: mathFn('log1p', Math.log1p),
  expm1: mathFn('expm1', Math.expm1),
  sqrt: { kind: 'unary', accepts: FLOAT, ref: Math.sqrt, js: ([x], dt) => round(`Math.sqrt(${x})`, dt) },
  rsqrt: { kind: 'unary', accepts: FLOAT, ref: (x) => 1 / Math.sqrt(x), js: ([x], dt) => round(`1 / Math.sqrt(${x})`, dt) },
  sin: mathFn('sin', Math.sin),
  cos: mathFn('cos', Math.cos),
  tan: mathFn('tan', Math.tan),
  tanh: mathFn('tanh', Math.tanh),
  erf: mathFn('erf', refErf),
  // Below -709 e^-x overflows and 1/(1 + e^-x) would flush to 0 before the result does.
  sigmoid: mathFn('sigmoid', (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))),
  floor: { kind: 'unary', accepts: NUM, ref: Math.floor, js: ([x]) => `Math.floor(${x})` },
  ceil: { kind: 'unary', accepts: NUM, ref: Math.ceil, js: ([x]) => `Math.ceil(${x})` },
  round: { kind: 'unary', accepts: NUM, ref: refRoundHalfEven, js: ([x]) => `M.roundHalfEven(${x})` },
  not: { kind: 'unary', accepts: BOOL, ref: (x) => (x ? 0 : 1), js: ([x]) => `(${x} ^ 1)` },
  isnan: { kind: 'unary', accepts: ALL, result: 'bool', ref: (x) => (Number.isNaN(x) ? 1 : 0), js: ([x]) => `(${x} !== ${x} ? 1 : 0)` },

  add: { kind: 'binary', accepts: NUM, ref: (a, b) => a + b, js: ([a, b], dt) => round(`${a} + ${b}`, dt) },
  sub: { kind: 'binary', accepts: NUM, ref: (a, b) => a - b, js: ([a, b], dt) => round(`${a} - ${b}`, dt) },
  mul: {
    kind: 'binary', accepts: NUM, ref: (a, b) => a * b, refInt: Math.imul,
    // uint8 products are below 2^16, exact in a double before the wrap.
    js: ([a, b], dt) => (dt === 'int32' ? `Math.imul(${a}, ${b})` : round(`${a} * ${b}`, dt)),
  },
  div: { kind: 'binary', accepts: FLOAT, ref: (a, b) => a / b, js: ([a, b], dt) => round(`${a} / ${b}`, dt) },
  pow: {
    kind: 'binary', accepts: NUM, ref: powC, refInt: powInt32,
    // uint8 powers wrap modulo 2^32 first, which keeps them right modulo 256.
    js: ([a, b], dt) => (isInteger(dt) ? round(`M.powInt32(${a}, ${b})`, dt) : round(`M.powC(${a}, ${b})`, dt)),
  },
  maximum: { kind: 'binary', accepts: NUM, ref: Math.max, js: ([a, b]) => `Math.max(${a}, ${b})` },
  minimum: { kind: 'binary', accepts: NUM, ref: Math.min, js: ([a, b]) => `Math.min(${a}, ${b})` },
  mod: {
    kind: 'binary', accepts: NUM,
    ref: (a, b) => { const r = a % b; return r !== 0 && (r < 0) !== (b < 0) ? r + b : r; },
    js: ([a, b], dt) => round(`M.mod(${a}, ${b})`, dt),
  },
  lt: compare((a, b) => a < b, '<'),
  le: compare((a, b) => a <= b, '<='),
  eq: compare((a, b) => a === b, '==='),
  ne: compare((a, b) => a !== b, '!=='),
  and: { kind: 'binary', accepts: BOOL, ref: (a, b) => (a && b ? 1 : 0), js: ([a, b]) => `(${a} & ${b})` },
  or: { kind: 'binary', accepts: BOOL, ref: (a, b) => (a || b ? 1 : 0), js: ([a, b]) => `(${a} | ${b})` },

  where: { kind: 'ternary', accepts: ALL, ref: (c, a, b) => (c ? a : b), js: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})` },
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

/** The JS expression converting a value of dtype `from` to dtype `to`, as storing it would. */
export function renderCast(x: string, from: DType, to: DType): string {
  if (from === to) return x;
  switch (to) {
    case 'bool': return `(${x} !== 0 ? 1 : 0)`;
    case 'int32': return from === 'bool' || from === 'uint8' ? x : `(Math.trunc(${x}) | 0)`;
    // Truncation toward zero, then modulo 256, as PyTorch's CPU cast (-1.0 -> 255, 300.5 -> 44); NaN and ±Inf give 0.
    case 'uint8': return from === 'bool' ? x : `(${x} & 255)`;
    case 'float32': return `Math.fround(${x})`;
    case 'float64': return x;
  }
}

/** Reference conversion of a value to what dtype `to` stores. */
export function refCast(x: number, to: DType): number {
  switch (to) {
    case 'bool': return x !== 0 ? 1 : 0;
    case 'int32': return Number.isFinite(x) ? Math.trunc(x) | 0 : 0;
    case 'uint8': return Number.isFinite(x) ? ((Math.trunc(x) % 256) + 256) % 256 : 0;
    case 'float32': return Math.fround(x);
    case 'float64': return x;
  }
}

/** True for primitives computed one element at a time. */
export function isElementwise(rule: PrimRule): rule is ElementwiseRule {
  return rule.kind === 'unary' || rule.kind === 'binary' || rule.kind === 'ternary';
}

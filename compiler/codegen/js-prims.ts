/**
 * JavaScript renderings of the elementwise primitives and of casts, one entry per
 * primitive, typed over all of them so none can be missing. Each rendering computes the
 * result exactly as the result dtype stores it (float32 through Math.fround or a float32
 * helper), so a fused kernel computes what the same ops computed one at a time.
 * Helpers are named through `M`, so a rendering cannot call a helper that does not exist.
 */
import { isInteger, type DType } from '../../runtime/dtype.js';
import type { ElementwisePrim } from '../ir/primitives.js';
import { M } from './js-helpers.js';

/** A JS expression renderer: operand expressions (of the operand dtype) in, expression out. */
export type JsRender = (args: readonly string[], dtype: DType) => string;

/** Rounds a float64 expression to the dtype's stored value. */
function round(expr: string, dtype: DType): string {
  switch (dtype) {
    case 'float16': return `${M.roundToHalf}(${expr})`;
    case 'float32': return `Math.fround(${expr})`;
    case 'int32': return `((${expr}) | 0)`;
    // `& 255` is the value modulo 256 for any integral double (ToInt32 is exact modular arithmetic).
    case 'uint8': return `((${expr}) & 255)`;
    case 'float64': case 'bool': return expr;
  }
}

/**
 * A float math function: kiln's float32 kernel for float32, its float64 counterpart for
 * float64; float16 computes in float32 and rounds the result to half.
 */
function mathFn(f32: string, f64: string): JsRender {
  return ([x], dt) =>
    (dt === 'float16' ? `${M.roundToHalf}(${f32}(${x}))` : dt === 'float32' ? `${f32}(${x})` : `${f64}(${x})`);
}

function compare(op: '<' | '<=' | '===' | '!=='): JsRender {
  return ([a, b]) => `(${a} ${op} ${b} ? 1 : 0)`;
}

/** The JS expression of every elementwise primitive. */
export const jsPrimitives: { [P in ElementwisePrim]: JsRender } = {
  copy: ([x]) => x!,
  neg: ([x], dt) => (dt === 'int32' ? `((-${x}) | 0)` : dt === 'uint8' ? `((-${x}) & 255)` : `(-${x})`),
  // |x| of a uint8 is x itself.
  abs: ([x], dt) => (dt === 'int32' ? `(Math.abs(${x}) | 0)` : `Math.abs(${x})`),
  sign: ([x]) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : ${x})`,
  recip: ([x], dt) => round(`1 / ${x}`, dt),
  exp: mathFn(M.exp, M.exp64),
  log: mathFn(M.log, M.log64),
  log1p: mathFn(M.log1p, M.log1p64),
  expm1: mathFn(M.expm1, M.expm164),
  sqrt: ([x], dt) => round(`Math.sqrt(${x})`, dt),
  rsqrt: ([x], dt) => round(`1 / Math.sqrt(${x})`, dt),
  sin: mathFn(M.sin, M.sin64),
  cos: mathFn(M.cos, M.cos64),
  tan: mathFn(M.tan, M.tan64),
  tanh: mathFn(M.tanh, M.tanh64),
  erf: mathFn(M.erf, M.erf64),
  erfc: mathFn(M.erfc, M.erfc64),
  sigmoid: mathFn(M.sigmoid, M.sigmoid64),
  floor: ([x]) => `Math.floor(${x})`,
  ceil: ([x]) => `Math.ceil(${x})`,
  round: ([x]) => `${M.roundHalfEven}(${x})`,
  not: ([x]) => `(${x} ^ 1)`,
  isnan: ([x]) => `(${x} !== ${x} ? 1 : 0)`,

  add: ([a, b], dt) => round(`${a} + ${b}`, dt),
  sub: ([a, b], dt) => round(`${a} - ${b}`, dt),
  // uint8 products are below 2^16, exact in a double before the wrap.
  mul: ([a, b], dt) => (dt === 'int32' ? `Math.imul(${a}, ${b})` : round(`${a} * ${b}`, dt)),
  div: ([a, b], dt) => round(`${a} / ${b}`, dt),
  // uint8 powers wrap modulo 2^32 first, which keeps them right modulo 256.
  pow: ([a, b], dt) => round(`${isInteger(dt) ? M.powInt32 : dt === 'float64' ? M.powC : M.pow}(${a}, ${b})`, dt),
  maximum: ([a, b]) => `Math.max(${a}, ${b})`,
  minimum: ([a, b]) => `Math.min(${a}, ${b})`,
  mod: ([a, b], dt) => round(`${M.mod}(${a}, ${b})`, dt),
  lt: compare('<'),
  le: compare('<='),
  eq: compare('==='),
  ne: compare('!=='),
  and: ([a, b]) => `(${a} & ${b})`,
  or: ([a, b]) => `(${a} | ${b})`,

  where: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})`,
};

/** The JS expression converting a value of dtype `from` to dtype `to`, as storing it would. */
export function renderCast(x: string, from: DType, to: DType): string {
  if (from === to) return x;
  switch (to) {
    case 'bool': return `(${x} !== 0 ? 1 : 0)`;
    case 'int32': return from === 'bool' || from === 'uint8' ? x : `(Math.trunc(${x}) | 0)`;
    // Truncation toward zero, then modulo 256, as PyTorch's CPU cast (-1.0 -> 255, 300.5 -> 44); NaN and ±Inf give 0.
    case 'uint8': return from === 'bool' ? x : `(${x} & 255)`;
    case 'float16': return `${M.roundToHalf}(${x})`;
    case 'float32': return `Math.fround(${x})`;
    case 'float64': return x;
  }
}

/**
 * WGSL renderings of the elementwise primitives and of casts, one entry per primitive,
 * matching the JavaScript renderer's semantics (compiler/codegen/js.ts) in float32.
 *
 * On the GPU `bool` is a u32 holding 0 or 1 (WGSL storage has no 8-bit type), so every
 * bool-valued expression here is a u32, exactly like the 0/1 numbers of the JS kernels.
 * `uint8` is an i32 holding 0..255: `& 255` after i32 arithmetic is the JS kernels' wrap
 * modulo 256, and float-to-uint8 reuses the exact float-to-int32 wrap (-1.0 -> -1 -> 255),
 * where a u32 conversion would saturate negative floats to 0.
 *
 * WGSL's built-in transcendental functions only promise loose accuracy (sin/cos to 2^-11
 * absolute, log to 2^-21 absolute near 1, pow undefined for negative bases) and leave NaN
 * handling of comparisons, min and max to the implementation. So the functions whose
 * results users compare against the CPU are written out in wgsl-helpers.ts: float32 polynomials (the
 * musl and f32-math.ts reductions) with explicit NaN and infinity cases, tested bit-level
 * through `k_isnan`. The built-ins kept are the ones WGSL specifies exactly or to a few
 * ulp: abs, floor, ceil, round (half to even), trunc, sqrt, ldexp and division.
 *
 * Shader compilers may reassociate float arithmetic (Mesa folds `x - ((1 + x) - 1)` to 0)
 * and may split fma into a multiply and an add, so nothing here relies on error-free
 * transformations: where exactness matters (fmod, float-to-int wrapping, the trigonometric
 * reduction of large arguments) the work is done on the integer bits.
 */
import type { DType } from '../../runtime/dtype.js';
import { InternalError } from '../../runtime/errors.js';
import { primitiveRules, type ElementwisePrim } from '../ir/primitives.js';
import type { UseHelper, WgslHelper } from './wgsl-helpers.js';

export type { ElementwisePrim };

/**
 * The dtypes a WGSL kernel can hold: float64 has no WGSL type. float16 is stored as f16 and
 * held as f32 in registers (as uint8 is held as i32); every result is rounded to half by
 * k_f16, in integer arithmetic, so the GPU gives the CPU's bits for + - * / and casts, and
 * the f16 conversion on store is exact.
 */
export type GpuDType = Exclude<DType, 'float64'>;


/** Renders a primitive from operand expressions of the operand dtype. */
export type WgslRender = (args: readonly string[], dtype: GpuDType, use: UseHelper) => string;

/** The WGSL type that holds a dtype's values in registers (and in storage, but for float16). */
export function wgslType(dtype: GpuDType): 'f32' | 'i32' | 'u32' {
  switch (dtype) {
    case 'float16': case 'float32': return 'f32';
    case 'int32': return 'i32';
    case 'uint8': return 'i32';
    case 'bool': return 'u32';
  }
}

/** The WGSL element type of a dtype's storage: f16 for float16 (2 bytes), else its register type. */
export function wgslStorageType(dtype: GpuDType): 'f16' | 'f32' | 'i32' | 'u32' {
  return dtype === 'float16' ? 'f16' : wgslType(dtype);
}

const bool = (cond: string): string => `select(0u, 1u, ${cond})`;

/** An i32 result as `dtype` holds it: uint8 wraps modulo 256, as the JS kernels' `& 255`. */
const wrap = (expr: string, dtype: GpuDType): string => (dtype === 'uint8' ? `(${expr} & 255)` : expr);

function floatOnly(prim: string, dtype: GpuDType): void {
  if (dtype !== 'float32') throw new InternalError(`wgsl: ${prim} has no ${dtype} rendering`);
}

/** A float32 function helper; other dtypes never reach it (the primitive table accepts floats only). */
function floatFn(prim: string, helper: WgslHelper): WgslRender {
  return ([x], dt, use) => {
    floatOnly(prim, dt);
    return `${use(helper)}(${x})`;
  };
}

/** float comparisons go through their negation-free form, so NaN gives false like JS. */
function compare(op: '<' | '<=' | '=='): WgslRender {
  return ([a, b]) => bool(`${a} ${op} ${b}`);
}

/** The WGSL expression of every elementwise primitive, typed over all of them so none can be missing. */
export const wgslPrimitives: { [P in ElementwisePrim]: WgslRender } = {
  copy: ([x]) => x!,
  neg: ([x], dt) => wrap(`(-${x})`, dt),
  abs: ([x]) => `abs(${x})`,
  // WGSL's sign() leaves NaN unspecified; JS returns NaN (and keeps -0).
  sign: ([x], dt) => (dt !== 'float32' ? `sign(${x})` : `select(select(${x}, -1.0, ${x} < 0.0), 1.0, ${x} > 0.0)`),
  recip: ([x], dt) => (floatOnly('recip', dt), `(1.0 / ${x})`),
  exp: floatFn('exp', 'k_exp'),
  log: floatFn('log', 'k_log'),
  log1p: floatFn('log1p', 'k_log1p'),
  expm1: floatFn('expm1', 'k_expm1'),
  sqrt: ([x], dt) => (floatOnly('sqrt', dt), `sqrt(${x})`),
  // 1 / sqrt rather than inverseSqrt: it keeps rsqrt(0) = Inf and rsqrt(-0) = -Inf.
  rsqrt: ([x], dt) => (floatOnly('rsqrt', dt), `(1.0 / sqrt(${x}))`),
  sin: floatFn('sin', 'k_sin'),
  cos: floatFn('cos', 'k_cos'),
  tan: floatFn('tan', 'k_tan'),
  tanh: floatFn('tanh', 'k_tanh'),
  erf: floatFn('erf', 'k_erf'),
  erfc: floatFn('erfc', 'k_erfc'),
  sigmoid: floatFn('sigmoid', 'k_sigmoid'),
  floor: ([x], dt) => (dt === 'float32' ? `floor(${x})` : x!),
  ceil: ([x], dt) => (dt === 'float32' ? `ceil(${x})` : x!),
  // WGSL's round() is specified as round half to even, PyTorch's rule.
  round: ([x], dt) => (dt === 'float32' ? `round(${x})` : x!),
  not: ([x]) => `(${x} ^ 1u)`,
  isnan: ([x], dt, use) => (dt === 'float32' ? bool(`${use('k_isnan')}(${x})`) : '0u'),

  // Concrete i32 arithmetic in WGSL wraps modulo 2^32, as `| 0` and Math.imul do.
  add: ([a, b], dt) => wrap(`(${a} + ${b})`, dt),
  sub: ([a, b], dt) => wrap(`(${a} - ${b})`, dt),
  mul: ([a, b], dt) => wrap(`(${a} * ${b})`, dt),
  div: ([a, b], dt) => (floatOnly('div', dt), `(${a} / ${b})`),
  pow: ([a, b], dt, use) =>
    (dt === 'float32' ? `${use('k_pow_f32')}(${a}, ${b})` : wrap(`${use('k_pow_i32')}(${a}, ${b})`, dt)),
  maximum: ([a, b], dt, use) => (dt === 'float32' ? `${use('k_max_f32')}(${a}, ${b})` : `max(${a}, ${b})`),
  minimum: ([a, b], dt, use) => (dt === 'float32' ? `${use('k_min_f32')}(${a}, ${b})` : `min(${a}, ${b})`),
  mod: ([a, b], dt, use) => `${use(dt === 'float32' ? 'k_mod_f32' : 'k_mod_i32')}(${a}, ${b})`,
  lt: compare('<'),
  le: compare('<='),
  eq: compare('=='),
  // !(a == b) rather than a != b: true for NaN operands whichever ordered/unordered form a compiler picks.
  ne: ([a, b]) => bool(`!(${a} == ${b})`),
  and: ([a, b]) => `(${a} & ${b})`,
  or: ([a, b]) => `(${a} | ${b})`,

  where: ([c, a, b]) => `select(${b}, ${a}, ${c} != 0u)`,
};

/** The WGSL expression converting `x` from dtype `from` to `to`, as the JS renderer's renderCast does. */
export function renderWgslCast(x: string, from: GpuDType, to: GpuDType, use: UseHelper): string {
  if (from === to) return x;
  // A float16 value is an f32 register holding a half; to float16 is to float32, rounded.
  if (from === 'float16') return renderWgslCast(x, 'float32', to, use);
  switch (to) {
    case 'float16': return `${use('k_f16')}(${renderWgslCast(x, from, 'float32', use)})`;
    case 'bool': return from === 'float32' ? `${use('k_f32_to_bool')}(${x})` : bool(`${x} != 0i`);
    // JS's `Math.trunc(x) | 0` wraps modulo 2^32 where WGSL's i32() would saturate.
    case 'int32': return from === 'float32' ? `${use('k_f32_to_i32')}(${x})` : `i32(${x})`;
    case 'uint8':
      if (from === 'bool') return `i32(${x})`;
      return from === 'float32' ? `(${use('k_f32_to_i32')}(${x}) & 255)` : `(${x} & 255)`;
    case 'float32': return `f32(${x})`;
  }
}

/** The WGSL of elementwise `prim` on operands of `dtype`: float16 computes as float32 and rounds a float result to half. */
export function renderWgslPrim(prim: ElementwisePrim, args: readonly string[], dtype: GpuDType, use: UseHelper): string {
  if (dtype !== 'float16') return wgslPrimitives[prim](args, dtype, use);
  const value = wgslPrimitives[prim](args, 'float32', use);
  return primitiveRules[prim].result === 'bool' ? value : `${use('k_f16')}(${value})`;
}

/**
 * Scalar float64 functions with no exact `Math` counterpart: the reference meaning of the
 * primitives that need one (compiler/ir/primitives.ts) and, the very same functions, the
 * float64 helpers of generated JavaScript kernels (compiler/codegen/js-helpers.ts).
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT_PI = 1.7724538509055159;

/**
 * erfc(a) for a > 0 by its continued fraction, summed from term `terms` back. It converges
 * slowly for small a: against Python's math.erfc, 60 terms are within 3e-16 relative from
 * a = 2 on, 300 terms from a = 0.8 on (at a = 0.5 even 300 leave 9e-11).
 */
function erfcFraction(a: number, terms: number): number {
  let f = 0;
  for (let n = terms; n >= 1; n--) f = n / 2 / (a + f);
  return Math.exp(-a * a) / SQRT_PI / (a + f);
}

/** erf(a) for 0 <= a < 2.5 by its Maclaurin series: converges fast and exactly enough in float64. */
function erfSeries(a: number): number {
  let term = a, sum = a;
  for (let n = 1; n < 200; n++) {
    term *= (-a * a) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/** float64 erf (Abramowitz–Stegun 7.1.26 is too coarse): series near 0, continued fraction beyond. */
export function erf64(x: number): number {
  if (x !== x) return NaN;
  if (x === 0) return x;
  const a = Math.abs(x);
  if (a > 6) return x > 0 ? 1 : -1;
  const r = a < 2.5 ? erfSeries(a) : 1 - erfcFraction(a, 60);
  return x < 0 ? -r : r;
}

/**
 * float64 erfc = 1 - erf without the cancellation: below 0.8 erfc > 0.25, so 1 - erf loses
 * nothing that matters; above, the continued fraction gives the small tail directly
 * (erfc(10) = 2.1e-45 survives, where 1 - erf(10) is 0).
 */
export function erfc64(x: number): number {
  if (x !== x) return NaN;
  if (x < 0.8) return 1 - erf64(x);
  // erfc(27.3) is below the smallest float64 subnormal.
  if (x > 27.3) return 0;
  return erfcFraction(x, x < 2 ? 300 : 60);
}

/** float64 logistic; below -709 e^-x overflows, so negative x use e^x / (1 + e^x). */
export function sigmoid64(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Round half to even, as PyTorch's round does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Python/PyTorch remainder: the result takes the divisor's sign. */
export function mod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
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

// Scalar float32 math shared by the eager CPU backend and jit-generated kernels.
//
// Each function takes a float32-representable JS number and returns the float32
// result (already passed through Math.fround). Internally everything is computed
// in float64 with polynomial approximations sized for float32: the float64 value
// is within ~1e-9 relative of the true result, so the single final Math.fround
// lands on the correctly rounded float32 or one ulp off it. Because eager and jit
// call the same functions, both produce bitwise-identical results.
//
// Performance notes, since these get inlined into generated loops:
// - functions are small and take/return only numbers, so V8 inlines them;
// - polynomial coefficients are literals (constants), not module variables;
// - special values are handled by range checks written so that NaN fails the
//   fast-path comparison and falls through to the slow exits.
// Polynomial coefficients are Chebyshev fits (computed with mpmath) of the
// functions named next to each polynomial, on the stated interval.

/** 1.5 * 2^52: `v + SHIFT - SHIFT` rounds |v| < 2^51 to the nearest integer (ties to even). */
const SHIFT = 6755399441055744;
const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;
const TWO_OVER_PI = 0.6366197723675814;
// pi/2 split Cody-Waite style: PIO2_1 has 33 significant bits, so k * PIO2_1 is
// exact for |k| < 2^20 and x - k * PIO2_1 is exact (Sterbenz). PIO2_1T = pi/2 - PIO2_1.
const PIO2_1 = 1.5707963267341256;
const PIO2_1T = 6.077100506506192e-11;
/** Below this |x|, sin/cos use the Cody-Waite reduction; above it they defer to Math.sin/Math.cos. */
const TRIG_REDUCE_MAX = 1048576; // 2^20

// POW2[k + 150] = 2^k for k in [-150, 150]: a table load is the cheapest way to
// scale by 2^k in JS (no bit casts, no Math.pow); exact, and covers every k the
// exp-based functions can reach for float32 inputs (exp(-x) in sigmoid needs 150).
const POW2 = new Float64Array(301);
for (let k = -150; k <= 150; k++) POW2[k + 150] = 2 ** k;

// Bit access to a float64, used by log to split off the exponent (float32
// subnormals are normal float64s, so no subnormal special case is needed).
const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);
/** Index of the float64's high (sign/exponent) word, depending on platform endianness. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** expm1(r) for |r| <= ln2/2 (+slack), relative error < 5e-10. */
function expm1Poly(r: number): number {
  // r + r^2 * P(r), P ~ (expm1(r) - r) / r^2 on [-0.3466, 0.3466]. Estrin's scheme
  // rather than Horner: shorter dependency chains let the CPU overlap more work.
  const r2 = r * r;
  const p =
    0.5000000013463886 +
    r * 0.16666666681621095 +
    r2 * (0.041666464944505696 + r * 0.008333310927615311 + r2 * (0.0013933647862928863 + r * 0.00019890988455544567));
  return r + r2 * p;
}

/** exp(x) in float64 for finite -150 < x*log2(e) < 150 (callers guarantee the range). */
function expCore(x: number): number {
  const k = x * LOG2E + SHIFT - SHIFT;
  // A single-word ln2 is enough: the reduction error (~|k| * 1e-17) is far below float32 resolution.
  const r = x - k * LN2;
  return POW2[(k + 150) | 0] * (1 + expm1Poly(r));
}

/** expm1(x) in float64 for finite |x*log2(e)| < 150; relative accuracy holds near 0 (k = 0 gives r = x exactly). */
function expm1Core(x: number): number {
  const k = x * LOG2E + SHIFT - SHIFT;
  const r = x - k * LN2;
  const s = POW2[(k + 150) | 0];
  // 2^k * (expm1(r) + 1) - 1; s - 1 is exact, and |result| >= 0.29 whenever k != 0, so no cancellation.
  return s * expm1Poly(r) + (s - 1);
}

/** log(u) in float64 for positive finite u (musl-style reduction to m in [sqrt(1/2), sqrt(2))). */
function logCore(u: number): number {
  F64[0] = u;
  // Adding (1.0's high word - sqrt(1/2)'s high word) carries mantissas >= sqrt(2)
  // into the next exponent, so u = 2^k * m with m in [sqrt(1/2), sqrt(2)) and
  // |s| <= 0.1716 below (the fit interval has slack for the 20-bit threshold).
  const h = I32[HI] + 0x95f62;
  const k = (h >> 20) - 1023;
  // Scale by the table instead of rewriting the high word: writing half of the
  // float64 and reading it back whole would stall store-to-load forwarding.
  const f = u * POW2[150 - k] - 1; // exact (Sterbenz), so log1p keeps full relative accuracy
  const s = f / (2 + f);
  const z = s * s;
  // log(1+f) = 2 atanh(s) = 2s + s*z*R(z), R ~ (log((1+s)/(1-s)) - 2s)/(s z), |s| <= 0.1716
  const R = 0.6666666655440618 + z * 0.4000012191414928 + z * z * (0.28550812382590146 + z * 0.2333069667245578);
  return k * LN2 + (2 * s + s * z * R);
}

/** float32 e^x, within 1 ulp; overflows to Infinity above ~88.7228, underflows through subnormals to 0. */
export function exp(x: number): number {
  // exp(-104) < 2^-150 (rounds to 0); exp(89) > FLT_MAX (Math.fround makes it Infinity).
  if (x > -104 && x < 89) return Math.fround(expCore(x));
  if (x !== x) return x;
  return x > 0 ? Infinity : 0;
}

/** float32 e^x - 1, within 1 ulp, accurate near 0 (keeps -0 and subnormals). */
export function expm1(x: number): number {
  // Below -18, e^x < 2^-25 so the result rounds to -1.
  if (x > -18 && x < 89) {
    // x + x^2/2 rounds to x here; also keeps the sign of -0, which the polynomial would lose.
    if (Math.abs(x) < 2.9802322387695312e-8) return x; // 2^-25
    return Math.fround(expm1Core(x));
  }
  if (x !== x) return x;
  return x > 0 ? Infinity : -1;
}

/** float32 natural log, within 1 ulp; log(0) = -Infinity, log(x < 0) = NaN. */
export function log(x: number): number {
  if (x > 0 && x < Infinity) return Math.fround(logCore(x));
  if (x === 0) return -Infinity;
  return x === Infinity ? x : NaN;
}

/** float32 log(1 + x), within 1 ulp, accurate near 0 (keeps -0 and subnormals); log1p(-1) = -Infinity. */
export function log1p(x: number): number {
  if (x > -1 && x < Infinity) {
    // For |x| >= 2^-29 a float32 x has no bits below 2^-52, so 1 + x is exact in
    // float64 and log(1 + x) loses nothing; below it, log1p(x) = x - x^2/2 rounds to x.
    if (Math.abs(x) < 1.862645149230957e-9) return x; // 2^-29
    return Math.fround(logCore(1 + x));
  }
  if (x === -1) return -Infinity;
  return x === Infinity ? x : NaN;
}

/** float32 tanh, within 1 ulp; via expm1 so small arguments keep full relative accuracy. */
export function tanh(x: number): number {
  // Above 9.1, 1 - |tanh| < 2^-25 so the result rounds to +-1.
  if (Math.abs(x) < 9.1) {
    // tanh x = x - x^3/3: the cubic term is under half an ulp (also keeps -0).
    if (Math.abs(x) < 0.0001220703125) return x; // 2^-13
    // tanh x = expm1(2x) / (expm1(2x) + 2) holds for either sign and the
    // denominator is in (1, Inf), so there is no cancellation and no sign branch
    // (a data-dependent branch mispredicts on mixed-sign inputs).
    const e = expm1Core(2 * x);
    return Math.fround(e / (e + 2));
  }
  if (x !== x) return x;
  return x > 0 ? 1 : -1;
}

/** float32 logistic 1/(1+e^-x), within 1 ulp; no overflow (e^-x is float64 and cannot overflow here). */
export function sigmoid(x: number): number {
  // Above 18, e^-x < 2^-25 so the result rounds to 1; at or below -104 it is < 2^-150 and rounds to 0.
  if (x > -104 && x < 18) return Math.fround(1 / (1 + expCore(-x)));
  if (x !== x) return x;
  return x > 0 ? 1 : 0;
}

/** float32 sine, within 1 ulp; |x| >= 2^20 (and Inf/NaN) defer to Math.sin, whose reduction is exact. */
export function sin(x: number): number {
  const a = Math.abs(x);
  if (a < TRIG_REDUCE_MAX) {
    // sin x = x - x^3/6: the cubic term is under half an ulp (also keeps -0).
    if (a < 0.000244140625) return x; // 2^-12
    const k = x * TWO_OVER_PI + SHIFT - SHIFT;
    const r = x - k * PIO2_1 - k * PIO2_1T;
    const z = r * r;
    const q = k | 0;
    // Branch-free quadrant select: on mixed inputs the quadrant is random and two
    // branches on it would mispredict; both polynomials are cheaper than that.
    // s + 1 * (c - s) differs from c by < 2^-52 relative (c >= 0.7 here), far below float32 resolution.
    const s = sinPoly(r, z);
    const v = s + (q & 1) * (cosPoly(z) - s);
    return Math.fround(v * (1 - (q & 2)));
  }
  return Math.fround(Math.sin(x));
}

/** float32 cosine, within 1 ulp; |x| >= 2^20 (and Inf/NaN) defer to Math.cos, whose reduction is exact. */
export function cos(x: number): number {
  const a = Math.abs(x);
  if (a < TRIG_REDUCE_MAX) {
    // cos x = 1 - x^2/2 rounds to 1 here.
    if (a < 0.000244140625) return 1; // 2^-12
    const k = x * TWO_OVER_PI + SHIFT - SHIFT;
    const r = x - k * PIO2_1 - k * PIO2_1T;
    const z = r * r;
    const q = (k | 0) + 1; // cos(x) = sin(x + pi/2): shift the quadrant by one
    // Branch-free quadrant select: on mixed inputs the quadrant is random and two
    // branches on it would mispredict; both polynomials are cheaper than that.
    // s + 1 * (c - s) differs from c by < 2^-52 relative (c >= 0.7 here), far below float32 resolution.
    const s = sinPoly(r, z);
    const v = s + (q & 1) * (cosPoly(z) - s);
    return Math.fround(v * (1 - (q & 2)));
  }
  return Math.fround(Math.cos(x));
}

/** sin(r) for |r| <= pi/4, z = r*r; relative error < 3e-11. */
function sinPoly(r: number, z: number): number {
  // r + r^3 * S(z), S ~ (sin r - r) / r^3 on z in [0, 0.7855^2]
  const S = -0.16666666663852378 + z * 0.008333331873578017 + z * z * (-0.00019840086123831875 + z * 2.7249846516055084e-6);
  return r + r * z * S;
}

/** cos(r) for |r| <= pi/4, z = r*r; relative error < 3e-12. */
function cosPoly(z: number): number {
  // 1 - z/2 + z^2 * C(z), C ~ (cos r - 1 + r^2/2) / r^4 on z in [0, 0.7855^2]
  const z2 = z * z;
  const C = 0.04166666666431877 + z * -0.0013888887671071894 + z2 * (2.480059986675055e-5 + z * -2.730089302856455e-7);
  return 1 - 0.5 * z + z2 * C;
}

/** float32 error function, within 1 ulp over the whole line; erf(+-Inf) = +-1, erf(-0) = -0. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 1) {
    // x * E(x^2), E(t) ~ erf(sqrt t)/sqrt t on [0, 1]; odd in x, so -0 and subnormals come out right.
    const t = x * x;
    const t2 = t * t;
    const E =
      1.1283791670615435 +
      t * -0.3761263846802871 +
      t2 * (0.11283782495236845 + t * -0.026865430727670243) +
      t2 *
        t2 *
        (0.005221031807858023 +
          t * -0.0008484080405535107 +
          t2 * (0.00011265959025606609 + t * -9.667044571486996e-6));
    return Math.fround(x * E);
  }
  // erfc(3.9192) = 2^-25: above it erf rounds to 1. In between, one degree-17
  // polynomial in v = |x| - 2.46 on [1, 3.92] (absolute error < 1e-10, and
  // erf >= 0.84 there) avoids an exp and a division. Estrin's scheme: a
  // 17-step Horner chain is latency-bound (about 2x slower in a loop).
  if (a < 3.92) {
    const v = a - 2.46;
    const v2 = v * v;
    const v4 = v2 * v2;
    const v8 = v4 * v4;
    const q0 = 0.9994966462779926 + v * 0.002656308864925012 + v2 * (-0.0065345136228438655 + v * 0.009831176672784579);
    const q1 = -0.00991425163944748 + v * 0.00680618827156621 + v2 * (-0.0029369172683780583 + v * 0.0004440051508090407);
    const q2 = 0.0003554299592113387 + v * -0.0002812044731439954 + v2 * (7.629576361599608e-5 + v * 1.2542069073496535e-5);
    const q3 = -1.75913604428809e-5 + v * 4.435015127362917e-6 + v2 * (1.1692860782064671e-6 + v * -7.440508004323098e-7);
    const q4 = -8.77801198666478e-9 + v * 4.1618436937852914e-8;
    const e = q0 + v4 * q1 + v8 * (q2 + v4 * q3 + v8 * q4);
    // x / a is +-1: a division is cheaper than a sign branch that mispredicts on mixed-sign data.
    return Math.fround(e * (x / a));
  }
  if (x !== x) return x;
  return x > 0 ? 1 : -1;
}

/** All scalar float32 helpers, for injection into generated kernels (e.g. as `new Function` arguments). */
export const f32Math = { erf, exp, expm1, log, log1p, tanh, sigmoid, sin, cos } as const;

/** Shape of {@link f32Math}, for typing the helper parameter of generated kernels. */
export type F32Math = typeof f32Math;

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
// functions named next to each polynomial, on the stated interval; erf instead
// uses a table of local Taylor polynomials built when the module loads (below).

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

// erf: a table of local cubics. Around each node r = k/64 (|k| <= 256, so the nodes cover
// [-4, 4]) erf is its Taylor polynomial
//   erf(r + d) = erf(r) + E(r) (d - r d^2 + (2r^2 - 1)/3 d^3) + O(d^4),  E(r) = 2/sqrt(pi) e^(-r^2)
// (the derivatives of erf are Hermite polynomials times E). One lookup and a cubic replace
// a choice between polynomials of degree 8 and 17 by range, a branch that mispredicts on
// arguments spread over both ranges (gelu's). The table holds the four coefficients of a
// node side by side (two nodes per cache line). The nodes are signed, so the odd symmetry
// costs no branch and no sign fix-up; erf(0) is stored as -0 so that +-0 keep their sign.
//
// Accuracy, measured with a scratch script over all 1,082,130,432 float32 in [0, 4) against
// the series below (continued fraction for erfc above 3): the float64 value before the final
// rounding is within 3.4e-9 relative (about 0.06 ulp of the float32 result; the worst case is
// near x = 1/128, where the truncated d^4 term is largest relative to erf), so the result is
// within 0.534 ulp: max 1 ulp, 277,226 inputs (0.026%) not correctly rounded. Negative
// inputs give exactly -erf(-x): every step is sign-symmetric.

/** erf(r) in float64 for 0 <= r <= 4: 2/sqrt(pi) e^(-r^2) sum_n 2^n r^(2n+1) / (1*3*...*(2n+1)), all terms positive. */
function erfSeries(r: number): number {
  const r2 = 2 * r * r;
  let term = r;
  let sum = r;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= r2 / (2 * n + 1);
    sum += term;
  }
  return 1.1283791670955126 * Math.exp(-r * r) * sum;
}

/**
 * [erf(r), E(r), -r E(r), (2r^2 - 1)/3 E(r)] at index 4 (k + 256), for every node r = k/64
 * with k in [-256, 256]. The spacing keeps |d| <= 1/128, where the truncated d^4 term is
 * below 7e-10 absolute.
 */
function erfTable(): Float64Array {
  const table = new Float64Array(4 * 513);
  for (let k = -256; k <= 256; k++) {
    const r = k / 64;
    const e = 1.1283791670955126 * Math.exp(-r * r);
    const i = 4 * (k + 256);
    table[i] = k === 0 ? -0 : Math.sign(r) * erfSeries(Math.abs(r));
    table[i + 1] = e;
    table[i + 2] = -r * e;
    table[i + 3] = ((2 * r * r - 1) / 3) * e;
  }
  return table;
}

const ERF_TABLE = erfTable();

/** float32 error function, within 1 ulp over the whole line; erf(+-Inf) = +-1, erf(-0) = -0. */
export function erf(x: number): number {
  // erfc(3.9192) = 2^-25: beyond it erf rounds to +-1, as it does at the node 251/64 (d = 0
  // there), so clamping to that node replaces a special case for large |x| and infinities.
  // min and max keep -0, and NaN passes through them and the steps below (the index of
  // NaN is 0, a valid row) to come out NaN.
  const c = Math.max(-3.921875, Math.min(x, 3.921875));
  // Nearest node r = k/64 (signed, |k| <= 251); d = c - r is exact and |d| <= 1/128.
  const k = c * 64 + SHIFT - SHIFT;
  const d = c - k * 0.015625;
  // Row of node k; i | 1 etc. add to a multiple of 4 without V8's overflow check.
  const i = (k + 256) << 2;
  const t = ERF_TABLE;
  return Math.fround(t[i]! + d * (t[i | 1]! + d * (t[i | 2]! + d * t[i | 3]!)));
}

/** All scalar float32 helpers, for injection into generated kernels (e.g. as `new Function` arguments). */
export const f32Math = { erf, exp, expm1, log, log1p, tanh, sigmoid, sin, cos } as const;

/** Shape of {@link f32Math}, for typing the helper parameter of generated kernels. */
export type F32Math = typeof f32Math;

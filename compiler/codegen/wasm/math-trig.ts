/**
 * sin, cos and tan on float64x2 lanes holding float32 inputs.
 *
 * Below 2^20 in magnitude the argument is reduced as compiler/scalar/f32-math.ts does
 * (Cody-Waite with a two-word pi/2: k pi/2 is exact for |k| < 2^20) and sin and cos then
 * follow its steps exactly, so they round to the JavaScript engine's bits. From 2^20 to the
 * largest float32 the JavaScript engine defers to Math.sin and Math.cos, whose reduction is
 * exact; here a Payne-Hanek reduction takes its place (below), run only when some lane
 * needs it, so those inputs keep the same accuracy (within 1 ulp) but may differ from the
 * JavaScript engine's bits where the float64 results straddle a float32 rounding boundary.
 * tan is sin/cos of the reduced argument (the JavaScript engine rounds Math.tan).
 */
import {
  f64, i64, integerBits, roundToInteger, SIGN, toFloat, type LaneWriter, type Lanes,
} from './math-lanes.js';

/** The trigonometric functions, which share their reduction. */
export type TrigFn = 'sin' | 'cos' | 'tan';

const TWO_OVER_PI = 0.6366197723675814;
// pi/2 = PIO2_1 + PIO2_1T, PIO2_1 with 33 significant bits: k PIO2_1 is exact for |k| < 2^20.
const PIO2_1 = 1.5707963267341256;
const PIO2_1T = 6.077100506506192e-11;
const PIO2 = 1.5707963267948966;
/** From here on (and below infinity) the Payne-Hanek reduction runs. */
const REDUCE_LARGE = 1048576; // 2^20
/** Below this, sin x and tan x round to x and cos x to 1. */
const TINY = 0.000244140625; // 2^-12

/**
 * 2/pi in 24-bit digits: 2/pi = sum C[i] 2^(-24 (i+1)), from mpmath at 200 bits. Eight digits
 * reach 2^-192: the largest float32 (2^104 times a 24-bit integer) needs the digits from 2^-120
 * on, and three more digits leave the fraction exact to below 2^-70.
 */
const TWO_OVER_PI_DIGITS = [0xa2f983, 0x6e4e44, 0x1529fc, 0x2757d1, 0xf534dd, 0xc0db62, 0x95993c, 0x439041];

/** sin(r) for |r| <= pi/4, z = r^2: r + r z S(z). */
function sinPoly(w: LaneWriter, r: Lanes, z: Lanes): Lanes {
  const tail = w.mul(w.mul(z, z), w.add(f64(-0.00019840086123831875), w.mul(z, f64(2.7249846516055084e-6))));
  const S = w.add(w.add(f64(-0.16666666663852378), w.mul(z, f64(0.008333331873578017))), tail);
  return w.add(r, w.mul(w.mul(r, z), S));
}

/** cos(r) for |r| <= pi/4, z = r^2: 1 - z/2 + z^2 C(z). */
function cosPoly(w: LaneWriter, z: Lanes): Lanes {
  const z2 = w.mul(z, z);
  const tail = w.mul(z2, w.add(f64(2.480059986675055e-5), w.mul(z, f64(-2.730089302856455e-7))));
  const C = w.add(w.add(f64(0.04166666666431877), w.mul(z, f64(-0.0013888887671071894))), tail);
  return w.add(w.sub(f64(1), w.mul(f64(0.5), z)), w.mul(z2, C));
}

/** Lanes all ones where bit `bit` of the integer lanes q is set. */
function bitMask(w: LaneWriter, q: Lanes, bit: number): Lanes {
  return w.shrS(w.shl(q, 63 - bit), 63);
}

/**
 * The function at x = q pi/2 + r (q's low bits as integer lanes; cos is sin a quadrant on).
 * sin and cos mirror f32-math.ts: s + (q & 1)(c - s), times 1 - (q & 2).
 */
function quadrant(w: LaneWriter, fn: TrigFn, r: Lanes, q: Lanes): Lanes {
  const z = w.mul(r, r);
  const s = sinPoly(w, r, z), c = cosPoly(w, z);
  if (fn === 'tan') {
    // tan = s / c in even quadrants, -c / s in odd ones.
    const odd = bitMask(w, q, 0);
    return w.div(w.select(odd, w.xor(c, SIGN), s), w.select(odd, s, c));
  }
  const quarter = fn === 'cos' ? w.iadd(q, i64(1n)) : q;
  const one = toFloat(w, w.and(quarter, i64(1n)));
  const v = w.add(s, w.mul(one, w.sub(c, s)));
  return w.mul(v, w.sub(f64(1), toFloat(w, w.and(quarter, i64(2n)))));
}

/** TwoSum: s = a + b rounded, and e with s + e = a + b exactly. */
function twoSum(w: LaneWriter, a: Lanes, b: Lanes): { s: Lanes; e: Lanes } {
  const s = w.add(a, b);
  const bb = w.sub(s, a);
  return { s, e: w.add(w.sub(a, w.sub(s, bb)), w.sub(b, bb)) };
}

/** v mod 4, exact for v >= 0: v - 4 floor(v/4) keeps only bits v already has. */
function mod4(w: LaneWriter, v: Lanes): Lanes {
  return w.sub(v, w.mul(w.floor(w.mul(v, f64(0.25))), f64(4)));
}

/**
 * Payne-Hanek for float32 a >= 2^20: a = M 2^e (M a 24-bit integer), a 2/pi = sum M C[i]
 * 2^(e - 24(i+1)). Each product M C[i] has at most 48 bits, so each term is exact and so is
 * its value mod 4; terms at or above 4 vanish mod 4. Summing them mod 4 in double-double
 * (TwoSum) keeps the fraction to far below the 2^-60 the worst float32 case needs, so
 * a 2/pi = q + f, |f| <= 1/2, and r = f pi/2 are within a float64 rounding.
 */
function reduceLarge(w: LaneWriter, a: Lanes): { r: Lanes; q: Lanes } {
  const biased = w.shrU(a, 52);
  // M = a 2^(23 - E), E = biased - 1023.
  const m = w.mul(a, w.shl(w.isub(i64(2069n), biased), 52));
  let sum: Lanes | undefined, lo: Lanes | undefined;
  TWO_OVER_PI_DIGITS.forEach((digit, i) => {
    // 2^(e - 24(i+1)) with e = E - 23: biased exponent field biased - 47 - 24i.
    const scale = w.shl(w.isub(biased, i64(BigInt(47 + 24 * i))), 52);
    const term = mod4(w, w.mul(w.mul(m, f64(digit)), scale));
    if (sum === undefined) {
      sum = term;
      return;
    }
    const { s, e } = twoSum(w, sum, term);
    lo = lo === undefined ? e : w.add(lo, e);
    sum = mod4(w, s);
  });
  const { k, t } = roundToInteger(w, sum!);
  const f = w.add(w.sub(sum!, k), lo!);
  return { r: w.mul(f, f64(PIO2)), q: integerBits(w, t) };
}

/** sin, cos or tan of the lanes x. */
export function trig(w: LaneWriter, fn: TrigFn, x: Lanes): Lanes {
  const a = w.abs(x);
  const { k, t } = roundToInteger(w, w.mul(x, f64(TWO_OVER_PI)));
  const r = w.sub(w.sub(x, w.mul(k, f64(PIO2_1))), w.mul(k, f64(PIO2_1T)));
  const tiny = fn === 'cos' ? f64(1) : x;
  const near = w.select(w.lt(a, f64(TINY)), tiny, quadrant(w, fn, r, integerBits(w, t)));
  const result = w.variable();
  w.assign(result, near);
  const large = w.and(w.ge(a, f64(REDUCE_LARGE)), w.lt(a, f64(Infinity)));
  w.anyTrue(large).open('if');
  const reduced = reduceLarge(w, a);
  let far = quadrant(w, fn, reduced.r, reduced.q);
  // sin and tan are odd, cos even: the reduction ran on |x|.
  if (fn !== 'cos') far = w.xor(far, w.and(x, SIGN));
  w.assign(result, w.select(large, far, result));
  w.code.end();
  // +-Inf and NaN give NaN.
  return w.select(w.lt(a, f64(Infinity)), result, f64(NaN));
}

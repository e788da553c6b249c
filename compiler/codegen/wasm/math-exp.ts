/**
 * exp, expm1, log, log1p, tanh and sigmoid on float64x2 lanes holding float32 inputs: the
 * algorithms of compiler/scalar/f32-math.ts, operation for operation (the same coefficients,
 * the same evaluation order, the same thresholds), so rounding the result to float32 gives
 * the JavaScript engine's bits. Its `POW2` table and bit access become integer lane
 * arithmetic on the exponent field; special values are chosen with lane masks instead of
 * branches. Each function here takes the promoted input and returns the float64 result
 * whose float32 rounding is the answer.
 */
import { f64, i64, pow2, roundToInteger, SIGN, toFloat, type LaneWriter, type Lanes } from './math-lanes.js';

const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;
const INF = f64(Infinity);
const NAN = f64(NaN);

/** expm1(r) for |r| <= ln2/2 (+slack): r + r^2 (c0 + r c1 + r^2 (c2 + r c3 + r^2 (c4 + r c5))). */
function expm1Poly(w: LaneWriter, r: Lanes): Lanes {
  const r2 = w.mul(r, r);
  const inner = w.add(f64(0.0013933647862928863), w.mul(r, f64(0.00019890988455544567)));
  const mid = w.add(w.add(f64(0.041666464944505696), w.mul(r, f64(0.008333310927615311))), w.mul(r2, inner));
  const p = w.add(w.add(f64(0.5000000013463886), w.mul(r, f64(0.16666666681621095))), w.mul(r2, mid));
  return w.add(r, w.mul(r2, p));
}

/** x = k ln2 + r with k the nearest integer to x log2(e); 2^k as `s`. */
function reduceExp(w: LaneWriter, x: Lanes): { r: Lanes; s: Lanes } {
  const { k, t } = roundToInteger(w, w.mul(x, f64(LOG2E)));
  return { r: w.sub(x, w.mul(k, f64(LN2))), s: pow2(w, t) };
}

/** e^x for -150 < x log2(e) < 150. */
export function expCore(w: LaneWriter, x: Lanes): Lanes {
  const { r, s } = reduceExp(w, x);
  return w.mul(s, w.add(f64(1), expm1Poly(w, r)));
}

/** e^x - 1 for |x log2(e)| < 150, with full relative accuracy near 0. */
function expm1Core(w: LaneWriter, x: Lanes): Lanes {
  const { r, s } = reduceExp(w, x);
  return w.add(w.mul(s, expm1Poly(w, r)), w.sub(s, f64(1)));
}

/** log(u) for positive finite u: u = 2^k m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s). */
export function logCore(w: LaneWriter, u: Lanes): Lanes {
  // The high word plus (1.0's high word - sqrt(1/2)'s) carries mantissas >= sqrt(2) into the next exponent.
  const biased = w.shrS(w.iadd(w.shrS(u, 32), i64(0x95f62n)), 20);
  const k = toFloat(w, w.isub(biased, i64(1023n)));
  const scale = w.shl(w.isub(i64(2046n), biased), 52); // 2^-k
  const f = w.sub(w.mul(u, scale), f64(1));
  const s = w.div(f, w.add(f64(2), f));
  const z = w.mul(s, s);
  const tail = w.mul(w.mul(z, z), w.add(f64(0.28550812382590146), w.mul(z, f64(0.2333069667245578))));
  const R = w.add(w.add(f64(0.6666666655440618), w.mul(z, f64(0.4000012191414928))), tail);
  return w.add(w.mul(k, f64(LN2)), w.add(w.mul(f64(2), s), w.mul(w.mul(s, z), R)));
}

/** Inside (lo, hi), exclusive; false for NaN. */
function within(w: LaneWriter, x: Lanes, lo: number, hi: number): Lanes {
  return w.and(w.gt(x, f64(lo)), w.lt(x, f64(hi)));
}

/** NaN stays x; otherwise `above` for x > 0 and `below` for the rest. */
function saturate(w: LaneWriter, x: Lanes, above: Lanes, below: Lanes): Lanes {
  return w.select(w.ne(x, x), x, w.select(w.gt(x, f64(0)), above, below));
}

/** e^x: rounds to 0 below -104 and overflows above 89. */
export function exp(w: LaneWriter, x: Lanes): Lanes {
  return w.select(within(w, x, -104, 89), expCore(w, x), saturate(w, x, INF, f64(0)));
}

/** e^x - 1: rounds to -1 below -18; x itself below 2^-25 in magnitude (keeps -0). */
export function expm1(w: LaneWriter, x: Lanes): Lanes {
  const v = w.select(w.lt(w.abs(x), f64(2 ** -25)), x, expm1Core(w, x));
  return w.select(within(w, x, -18, 89), v, saturate(w, x, INF, f64(-1)));
}

/** Outside the domain's open interval: -Inf at its lower end, +Inf at +Inf, NaN elsewhere. */
function logSpecial(w: LaneWriter, x: Lanes, lower: number): Lanes {
  return w.select(w.eq(x, f64(lower)), f64(-Infinity), w.select(w.eq(x, INF), INF, NAN));
}

/** Natural log: -Inf at 0, NaN below. */
export function log(w: LaneWriter, x: Lanes): Lanes {
  return w.select(within(w, x, 0, Infinity), logCore(w, x), logSpecial(w, x, 0));
}

/** log(1 + x): 1 + x is exact in float64 for |x| >= 2^-29; below that the result rounds to x. */
export function log1p(w: LaneWriter, x: Lanes): Lanes {
  const v = w.select(w.lt(w.abs(x), f64(2 ** -29)), x, logCore(w, w.add(f64(1), x)));
  return w.select(within(w, x, -1, Infinity), v, logSpecial(w, x, -1));
}

/** tanh x = expm1(2x) / (expm1(2x) + 2); rounds to +-1 beyond 9.1 and to x below 2^-13. */
export function tanh(w: LaneWriter, x: Lanes): Lanes {
  const a = w.abs(x);
  const e = expm1Core(w, w.mul(f64(2), x));
  const v = w.select(w.lt(a, f64(2 ** -13)), x, w.div(e, w.add(e, f64(2))));
  return w.select(w.lt(a, f64(9.1)), v, saturate(w, x, f64(1), f64(-1)));
}

/** 1 / (1 + e^-x): rounds to 1 from 18 and to 0 at -104 and below. */
export function sigmoid(w: LaneWriter, x: Lanes): Lanes {
  const v = w.div(f64(1), w.add(f64(1), expCore(w, w.xor(x, SIGN))));
  return w.select(within(w, x, -104, 18), v, saturate(w, x, f64(1), f64(0)));
}

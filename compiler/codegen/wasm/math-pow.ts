/**
 * pow on float64x2 lanes holding float32 inputs: |a|^b = e^(b log|a|) with the log and exp
 * kernels of math-exp.ts, and the special cases of C's pow (as kiln's float64 reference,
 * compiler/scalar/f64-math.ts's powC): 1^b = 1 and a^0 = 1 even for NaN, (-1)^+-Inf = 1,
 * a negative base gives NaN for a non-integer exponent and keeps its sign for an odd one.
 *
 * Accuracy: b log|a| is within about 1e-9 absolute wherever the float32 result is neither 0
 * nor infinite (|b log|a|| < 104 there, and the log kernel is within about 1e-11 relative),
 * and e^y adds 5e-10 relative, together a few hundredths of an ulp before the float32
 * rounding. The JavaScript engine rounds Math.pow instead, so the two may differ by an ulp.
 */
import { exp, logCore } from './math-exp.js';
import { f64, SIGN, type LaneWriter, type Lanes } from './math-lanes.js';

const INF = f64(Infinity);

/** a^b. */
export function pow(w: LaneWriter, a: Lanes, b: Lanes): Lanes {
  const ax = w.abs(a);
  const magnitude = exp(w, w.mul(b, logCore(w, ax)));
  const integer = w.eq(w.floor(b), b);
  const half = w.mul(b, f64(0.5));
  const odd = w.and(integer, w.ne(w.floor(half), half));
  const negative = w.lt(a, f64(0));
  // An odd power keeps the base's sign (-0 and -Inf included); a negative base needs an integer power.
  const signed = (m: Lanes) => w.select(odd, w.or(m, w.and(a, SIGN)), m);
  const general = w.select(w.andNot(negative, integer), f64(NaN), signed(magnitude));
  // 0 and Inf bases: Inf where exactly one of "the base is Inf" and "the power is negative" holds.
  const edge = signed(w.select(w.xor(w.eq(ax, INF), w.lt(b, f64(0))), INF, f64(0)));
  const finite = w.select(w.or(w.eq(ax, f64(0)), w.eq(ax, INF)), edge, general);
  const notNan = w.select(w.ne(b, b), f64(NaN), finite);
  const unitInf = w.and(w.eq(ax, f64(1)), w.eq(w.abs(b), INF));
  return w.select(w.or(w.or(unitInf, w.eq(a, f64(1))), w.eq(b, f64(0))), f64(1), notNan);
}

/**
 * erf on float64x2 lanes holding float32 inputs. The JavaScript engine's erf reads a table
 * of local cubics, which a Wasm module cannot keep (its memory belongs to the tensors), so
 * this one uses two polynomials chosen per lane:
 * - |x| < 1: the Maclaurin series x P(x^2) to the x^25 term (truncation below 6e-12 relative);
 * - 1 <= |x| < 3.921875: 1 - e^(-x^2) Q(x), Q a degree-16 interpolant of erfcx(x) = e^(x^2) erfc(x)
 *   at Chebyshev nodes (fitted with mpmath at 200 bits; 4.3e-12 relative), whose error the
 *   small erfc (<= 0.16) shrinks further; e^(-x^2) comes from the exp kernel (5e-10 relative);
 * - beyond, erfc < 2^-25 and the result rounds to +-1 (the argument is clamped to 3.921875).
 * Both parts are odd or built on |x| with x's sign put back, so erf(-x) = -erf(x) and -0 stays.
 */
import { expCore } from './math-exp.js';
import { f64, SIGN, type LaneWriter, type Lanes } from './math-lanes.js';

/** 2/sqrt(pi) (-1)^n / (n! (2n+1)), n = 0..12: erf(x) = x sum c_n x^(2n). */
const SERIES = [
  1.1283791670955126, -0.37612638903183754, 0.11283791670955126, -0.026866170645131252, 0.005223977625442188,
  -0.0008548327023450853, 0.00012055332981789664, -1.492565035840625e-05, 1.6462114365889248e-06,
  -1.6365844691234924e-07, 1.4807192815879218e-08, -1.2290555301717928e-09, 9.422759064650411e-11,
];

/** erfcx(x) on [1, 3.921875] as a polynomial in t = (x - 2.4609375) / 1.4609375, constant term first. */
const ERFCX = [
  0.2137490924010346, -0.1115175273201605, 0.05527661526620338, -0.026187638612463683, 0.011913609352892929,
  -0.005224218759127377, 0.002215041668280401, -0.0009105051002205647, 0.00036360194626945983,
  -0.0001411556804588041, 5.351430710499658e-05, -2.016563023561136e-05, 7.283085070162521e-06,
  -2.192735337399199e-06, 7.709118142695748e-07, -4.841838004838031e-07, 1.5919418382094737e-07,
];

/** Beyond this |x|, erf rounds to +-1 in float32 (erfc(3.9192) = 2^-25). */
const CLAMP = 3.921875;

function horner(w: LaneWriter, t: Lanes, coefficients: readonly number[]): Lanes {
  let p = f64(coefficients[coefficients.length - 1]!);
  for (let i = coefficients.length - 2; i >= 0; i--) p = w.add(w.mul(p, t), f64(coefficients[i]!));
  return p;
}

/** The error function; NaN passes through (Wasm's min keeps it). */
export function erf(w: LaneWriter, x: Lanes): Lanes {
  const a = w.min(w.abs(x), f64(CLAMP));
  const z = w.mul(a, a); // exact: a has 24 significant bits
  const near = w.mul(a, horner(w, z, SERIES));
  const t = w.mul(w.sub(a, f64(2.4609375)), f64(1 / 1.4609375));
  const far = w.sub(f64(1), w.mul(expCore(w, w.xor(z, SIGN)), horner(w, t, ERFCX)));
  const magnitude = w.select(w.lt(a, f64(1)), near, far);
  return w.or(magnitude, w.and(x, SIGN));
}
